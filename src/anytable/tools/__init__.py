"""One module per resource; each registers its thin, typed tool functions."""

from anytable.tools import feishu_admin, fields, files, providers, records, tables, views

MODULES = (providers, tables, fields, views, records, files, feishu_admin)
