"""`python -m hub` is the `crmhub` command."""

from hub.cli import main

main()
