"""Voices and their engines (the ONNX engine lives in `forv_tts.voices.onnx`)."""
