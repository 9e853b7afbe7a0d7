"""Portable bundles of elements: a zip with `manifest.json` (`format`, described by
`manifest.schema.json`) and the files it lists.

- `export`: a library's elements written to a bundle, by a job with progress
  (`ElementExport`), downloaded through a signed, expiring link.
- `importer`: a bundle read back into a library, all or nothing, every file through the
  same validation as an upload (`elements.media`), the tier's element limit checked for
  the whole bundle.
- `archive`: the zip's safety checks (paths, symlinks, sizes, ratios), before anything is
  unpacked.

Only the personal library exists now (`library.personal_library`); a team library will be
another `BundleLibrary`.
"""
