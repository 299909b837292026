"""`python -m infra.local_stack`: see infra/local_stack/cli.py."""
from infra.local_stack.cli import main

raise SystemExit(main())
