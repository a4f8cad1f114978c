"""The demo: legacy stand-ins (SQLite, an EBCDIC drop folder), the change generator, scenarios and the live
summary that `crmhub demo` runs on the embedded defaults."""
