from anytable.cli import main

raise SystemExit(main())
