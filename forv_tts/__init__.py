"""forv-tts: Korean text-to-speech from the command line with the team's own Coqui voices.

The package is a library first; `forv_tts.cli` is a thin Typer layer over it. Importing this package
is cheap: heavy dependencies (torch, coqui-tts, g2pk, google-cloud-storage) load only where used.
"""

__version__ = "0.1.0"
