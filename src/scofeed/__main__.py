from scofeed.cli import main

raise SystemExit(main())
