from balagh.cli import main

raise SystemExit(main())
