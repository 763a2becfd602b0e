"""`python -m forv_tts` runs the CLI."""

from forv_tts.cli import main

main()
