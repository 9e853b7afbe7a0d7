"""Likeness protection: a user claims their face with a checked selfie video; other users'
elements showing that face are held until the owner allows them (see `services`)."""
