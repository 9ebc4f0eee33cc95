from conform.cli import main

raise SystemExit(main())
