"""One module per resource; each registers its thin, typed tool functions."""

from anytable.tools import feishu_admin, fields, providers, records, tables, views

MODULES = (providers, tables, fields, views, records, feishu_admin)
