import sys

try:
    from generator.cli import main
except KeyboardInterrupt:  # Ctrl-C while Python is still importing mcg-gen
    print("mcg-gen: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
