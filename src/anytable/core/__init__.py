"""What every tool shares, whatever the provider: addressing, schemas, records, cursors."""
