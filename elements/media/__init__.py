"""Media validation shared by every upload path: `images.process_image`,
`audio.process_audio`, and their error codes in `errors.MediaErrorCode`.

Import the submodule you need: `audio` loads pydub and PyAV, which image-only callers don't.
"""
