"""`python -m monitor.cli`: the same as the `tthc-monitor` command."""

from monitor.cli import main

raise SystemExit(main())
