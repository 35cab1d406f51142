"""``python -m xlhedge`` runs the command line."""

from xlhedge.cli import main

raise SystemExit(main())
