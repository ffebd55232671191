import sys

from genrec.cli import main

sys.exit(main())
