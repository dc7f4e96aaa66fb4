"""``python -m alexnet_keras``: see ``alexnet_keras.cli``."""

import sys

from alexnet_keras.cli import main

if __name__ == "__main__":
    sys.exit(main())
