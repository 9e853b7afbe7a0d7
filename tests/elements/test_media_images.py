"""elements.media.images: every input is made here with Pillow (or by hand, for the bombs)."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, ImageFile, PngImagePlugin

from elements.media.errors import MediaErrorCode
from elements.media.images import (
    PREVIEW_SIDE,
    THUMBNAIL_SIZE,
    ProcessedImage,
    coded_picture,
    preview_of,
    process_image,
)
from tests.support.media import png_header_only


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def picture(width: int = 640, height: int = 480, mode: str = "RGB") -> Image.Image:
    """A gradient with a bright corner, so orientation and colours can be checked."""
    image = Image.linear_gradient("L").resize((width, height)).convert(mode)
    image.paste((255, 0, 0) if mode == "RGB" else (255, 0, 0, 255), (0, 0, 40, 40))
    return image


def refused(data: bytes | object) -> ValidationError:
    upload = io.BytesIO(data) if isinstance(data, bytes) else data
    with pytest.raises(ValidationError) as caught:
        process_image(upload)
    error = caught.value
    assert not hasattr(error, "error_dict"), "a single error: the caller names the field"
    return error


def reopen(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


# --- accepted --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepts_jpeg_png_webp_and_reencodes_as_jpeg(fmt: str) -> None:
    # given: a client that lies about the name and type
    upload = SimpleUploadedFile(
        "photo.gif", encode(picture(640, 480), fmt), content_type="application/pdf"
    )

    # when
    result = process_image(upload)

    # then
    assert isinstance(result, ProcessedImage)
    assert (result.width, result.height) == (640, 480)
    assert (result.extension, result.content_type) == ("jpg", "image/jpeg")
    assert result.sha256 == hashlib.sha256(result.content).hexdigest()
    stored = reopen(result.content)
    assert (stored.format, stored.mode, stored.size) == ("JPEG", "RGB", (640, 480))
    thumbnail = reopen(result.thumbnail)
    assert result.thumbnail_extension == "jpg"
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (THUMBNAIL_SIZE, 240))


def test_transparent_png_stays_png_with_alpha() -> None:
    image = picture(400, 600, "RGBA")
    image.paste((0, 0, 0, 0), (100, 100, 200, 200))

    result = process_image(io.BytesIO(encode(image, "PNG")))

    assert (result.extension, result.content_type, result.thumbnail_extension) == (
        "png",
        "image/png",
        "png",
    )
    stored = reopen(result.content)
    assert (stored.format, stored.mode, stored.size) == ("PNG", "RGBA", (400, 600))
    assert stored.getpixel((150, 150)) == (0, 0, 0, 0)
    thumbnail = reopen(result.thumbnail)
    assert (thumbnail.format, thumbnail.mode, thumbnail.size) == ("PNG", "RGBA", (213, 320))


def test_opaque_alpha_channel_becomes_jpeg() -> None:
    result = process_image(io.BytesIO(encode(picture(400, 400, "RGBA"), "PNG")))

    assert result.extension == "jpg"
    assert reopen(result.content).mode == "RGB"


def test_palette_png_with_transparent_colour_stays_png() -> None:
    image = picture(400, 400).convert("P")
    index = image.getpixel((0, 0))

    result = process_image(io.BytesIO(encode(image, "PNG", transparency=index)))

    assert result.extension == "png"
    assert reopen(result.content).getchannel("A").getpixel((0, 0)) == 0


def test_sixteen_bit_greyscale_png_keeps_its_tones() -> None:
    image = Image.new("I;16", (400, 400), 32768)  # mid-grey on a 16-bit scale

    result = process_image(io.BytesIO(encode(image, "PNG")))

    red, green, blue = reopen(result.content).getpixel((200, 200))
    assert 120 <= red <= 136 and red == green == blue


def test_exif_orientation_is_applied_and_exif_removed() -> None:
    # given: pixels stored landscape, with EXIF saying "rotate 90° clockwise to display"
    image = picture(600, 400)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was held upright
    data = encode(image, "JPEG", exif=exif.tobytes())

    # when
    result = process_image(io.BytesIO(data))

    # then: the stored copy is upright and carries no orientation left to apply twice
    assert (result.width, result.height) == (400, 600)
    stored = reopen(result.content)
    assert stored.size == (400, 600)
    assert "exif" not in stored.info
    assert dict(stored.getexif()) == {}
    # the red corner, top-left in storage, is top-right once displayed
    red, green, _ = stored.getpixel((380, 20))
    assert red > 200 and green < 60


def test_metadata_is_stripped() -> None:
    # given: GPS in EXIF, a camera serial, a JPEG comment, XMP and an ICC profile
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0xA431] = "SERIAL-12345"  # BodySerialNumber
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 29.0)
    gps[3] = "E"
    gps[4] = (2.0, 17.0, 40.0)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        picture(640, 480),
        "JPEG",
        exif=exif.tobytes(),
        comment=b"home address",
        xmp=b"<x:xmpmeta>secret-xmp</x:xmpmeta>",
        icc_profile=srgb,
    )
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)

    # when
    result = process_image(io.BytesIO(data))

    # then
    stored = reopen(result.content)
    assert not {"exif", "comment", "xmp", "icc_profile"} & set(stored.info)
    assert dict(stored.getexif()) == {}
    for secret in (b"SecretCam", b"SERIAL-12345", b"home address", b"secret-xmp", b"GPS"):
        assert secret not in result.content
        assert secret not in result.thumbnail


def test_jpeg_comment_alone_is_stripped() -> None:
    # Pillow's JPEG encoder copies a comment from the image it was decoded from.
    data = encode(picture(640, 480), "JPEG", comment=b"home address")

    result = process_image(io.BytesIO(data))

    assert b"home address" not in result.content
    assert "comment" not in reopen(result.content).info


def test_transparent_png_metadata_is_stripped() -> None:
    # Pillow's PNG encoder copies an ICC profile from the image it was decoded from.
    image = picture(400, 400, "RGBA")
    image.paste((0, 0, 0, 0), (0, 0, 100, 100))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "home address")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(image, "PNG", exif=exif.tobytes(), pnginfo=text, icc_profile=srgb)

    result = process_image(io.BytesIO(data))

    assert result.extension == "png"
    stored = reopen(result.content)
    assert not {"exif", "Comment", "icc_profile"} & set(stored.info)
    assert b"SecretCam" not in result.content and b"home address" not in result.content


def test_webp_metadata_is_stripped() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"

    result = process_image(io.BytesIO(encode(picture(640, 480), "WEBP", exif=exif.tobytes())))

    assert b"SecretCam" not in result.content


def test_a_broken_colour_profile_is_ignored() -> None:
    result = process_image(io.BytesIO(encode(picture(), "JPEG", icc_profile=b"not a profile")))

    assert "icc_profile" not in reopen(result.content).info


def test_a_twelve_megapixel_photo_passes() -> None:
    image = Image.new("RGB", (4000, 3000), (90, 120, 200))

    result = process_image(io.BytesIO(encode(image, "JPEG", quality=80)))

    assert (result.width, result.height) == (4000, 3000)
    assert reopen(result.thumbnail).size == (THUMBNAIL_SIZE, 240)


@pytest.mark.parametrize("size", [(300, 300), (750, 300), (300, 750)])
def test_limits_are_inclusive(size: tuple[int, int]) -> None:
    result = process_image(io.BytesIO(encode(picture(*size), "PNG")))

    assert (result.width, result.height) == size


def test_an_upload_already_read_is_read_from_its_start() -> None:
    upload = SimpleUploadedFile("a.jpg", encode(picture(), "JPEG"), content_type="image/jpeg")
    upload.read()

    assert process_image(upload).width == 640


# --- refused ---------------------------------------------------------------------------------


def test_truncated_jpeg_is_corrupt() -> None:
    data = encode(Image.effect_noise((800, 600), 60).convert("RGB"), "JPEG")

    error = refused(data[: len(data) // 2])

    assert error.code == MediaErrorCode.IMAGE_CORRUPT
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("cut", [20, 200])
def test_png_cut_in_its_header_is_corrupt_not_unsupported(cut: int) -> None:
    assert refused(encode(picture(), "PNG")[:cut]).code == MediaErrorCode.IMAGE_CORRUPT


def test_png_with_a_bad_checksum_is_corrupt() -> None:
    data = bytearray(encode(picture(), "PNG"))
    data[-20] ^= 0xFF  # inside the last IDAT chunk

    assert refused(bytes(data)).code == MediaErrorCode.IMAGE_CORRUPT


def test_png_decompression_bomb_is_refused() -> None:
    # given: 400 megapixels in a file of a few tens of kilobytes
    data = png_header_only(20_000, 20_000)
    assert len(data) < 100_000

    error = refused(data)

    assert error.code == MediaErrorCode.IMAGE_TOO_MANY_PIXELS
    assert "50 megapixels" in error.messages[0]


def test_pixel_cap_is_checked_from_the_header_before_decoding(monkeypatch) -> None:
    # given: 56 megapixels, above our cap and below Pillow's own warning
    data = png_header_only(8000, 7000)
    loads: list[object] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self))

    error = refused(data)

    assert error.code == MediaErrorCode.IMAGE_TOO_MANY_PIXELS
    assert "8000×7000" in error.messages[0]
    assert loads == []


def test_pillow_bomb_warning_is_an_error_even_under_a_raised_cap(settings) -> None:
    # given: a deployment that raised the cap above Pillow's warning threshold (~89 Mpx)
    settings.ELEMENT_IMAGE_MAX_PIXELS = 150_000_000

    # when: 100 megapixels, which Pillow only warns about
    error = refused(png_header_only(10_000, 10_000))

    # then
    assert error.code == MediaErrorCode.IMAGE_TOO_MANY_PIXELS


def test_pixel_cap_follows_the_setting(settings) -> None:
    settings.ELEMENT_IMAGE_MAX_PIXELS = 1_000_000

    error = refused(encode(picture(1200, 1000), "JPEG"))

    assert error.code == MediaErrorCode.IMAGE_TOO_MANY_PIXELS
    assert "the limit is 1 megapixels" in error.messages[0]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"hello, I am not a picture\n" * 20, id="text-named-png"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="600">'
            b'<rect width="600" height="600" fill="red"/></svg>',
            id="svg",
        ),
        pytest.param(encode(picture(), "GIF"), id="gif"),
        pytest.param(encode(picture(), "BMP"), id="bmp"),
        pytest.param(encode(picture(), "TIFF"), id="tiff"),
    ],
)
def test_other_formats_are_unsupported(data: bytes) -> None:
    upload = SimpleUploadedFile("photo.png", data, content_type="image/png")

    error = refused(upload)

    assert error.code == MediaErrorCode.IMAGE_UNSUPPORTED_FORMAT
    assert "JPEG, PNG or WebP" in error.messages[0]


@pytest.mark.parametrize("size", [(1, 1), (200, 200), (299, 1000)])
def test_too_small(size: tuple[int, int]) -> None:
    error = refused(encode(picture(*size), "PNG"))

    assert error.code == MediaErrorCode.IMAGE_TOO_SMALL
    assert "at least 300 pixels" in error.messages[0]


@pytest.mark.parametrize("size", [(3000, 300), (300, 751)])
def test_bad_aspect_ratio(size: tuple[int, int]) -> None:
    error = refused(encode(picture(*size), "JPEG"))

    assert error.code == MediaErrorCode.IMAGE_BAD_ASPECT_RATIO
    assert "1:2.5 and 2.5:1" in error.messages[0]


def test_min_side_follows_the_setting(settings) -> None:
    settings.ELEMENT_IMAGE_MIN_SIDE = 500

    assert refused(encode(picture(640, 480), "JPEG")).code == MediaErrorCode.IMAGE_TOO_SMALL


def test_empty_file() -> None:
    assert refused(b"").code == MediaErrorCode.EMPTY_FILE


class CountingStream(io.RawIOBase):
    """A stream with no `size`, that counts what is read from it."""

    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.inner.read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_over_the_byte_cap_reads_at_most_one_byte_more(settings) -> None:
    settings.ELEMENT_IMAGE_MAX_BYTES = 1000
    stream = CountingStream(encode(Image.effect_noise((800, 600), 60).convert("RGB"), "PNG"))

    error = refused(stream)

    assert error.code == MediaErrorCode.FILE_TOO_LARGE
    assert "1000 bytes" in error.messages[0]
    assert stream.bytes_read == 1001


def test_over_the_byte_cap_by_declared_size(settings) -> None:
    settings.ELEMENT_IMAGE_MAX_BYTES = 2 * 1024 * 1024
    upload = SimpleUploadedFile("a.jpg", b"\xff\xd8\xff" + bytes(3 * 1024 * 1024), "image/jpeg")

    error = refused(upload)

    assert error.code == MediaErrorCode.FILE_TOO_LARGE
    assert "2 MB" in error.messages[0]


# --- an upright sRGB JPEG keeps its coded picture ---------------------------------------------


def _pixels(data: bytes) -> bytes:
    return reopen(data).tobytes()


@pytest.mark.parametrize("progressive", [False, True])
def test_an_upright_jpeg_keeps_its_own_coded_picture_without_its_metadata(
    progressive: bool,
) -> None:
    # given: a photo with EXIF (no orientation), a comment, XMP, and bytes after its end
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    data = encode(
        Image.effect_noise((900, 600), 40).convert("RGB"),
        "JPEG",
        quality=95,
        progressive=progressive,
        exif=exif.tobytes(),
        comment=b"home address",
        xmp=b"<x:xmpmeta>secret-xmp</x:xmpmeta>",
    )
    upload = data + b"PK\x03\x04 a zip appended to the picture"

    result = process_image(io.BytesIO(upload))

    # then: the same pixels, not a generation lost to a re-encode at quality 90…
    assert _pixels(result.content) == _pixels(data)
    assert result.content == coded_picture(data)
    # …and nothing but the picture: no metadata, nothing after the end marker
    for secret in (b"SecretCam", b"home address", b"secret-xmp", b"PK\x03\x04"):
        assert secret not in result.content
    assert result.content.endswith(b"\xff\xd9")
    stored = reopen(result.content)
    assert not {"exif", "comment", "xmp", "icc_profile"} & set(stored.info)
    assert (stored.format, stored.mode, stored.size) == ("JPEG", "RGB", (900, 600))
    assert (result.width, result.height, result.extension) == (900, 600, "jpg")
    assert reopen(result.thumbnail).size == (THUMBNAIL_SIZE, 213)


def test_a_large_jpeg_is_decoded_once_at_preview_scale_for_its_derivatives() -> None:
    data = encode(Image.linear_gradient("L").resize((4000, 3000)).convert("RGB"), "JPEG")

    result = process_image(io.BytesIO(data))

    assert (result.width, result.height) == (4000, 3000)
    # libjpeg's 1/4 scale: the smallest at least PREVIEW_SIDE long, the same pixels a decode
    # of the stored file at that scale gives (what subject detection would otherwise do)
    assert result.preview is not None and result.preview.size == (1000, 750)
    assert result.preview.size[0] >= PREVIEW_SIDE
    again = preview_of(Image.open(io.BytesIO(result.content)))
    assert again.tobytes() == result.preview.tobytes()
    assert reopen(result.thumbnail).size == (THUMBNAIL_SIZE, 240)


def test_jpegs_whose_pixels_must_change_are_re_encoded() -> None:
    # given: a CMYK JPEG (Adobe's colour transform) and one with a profile other than sRGB
    cmyk = encode(picture().convert("CMYK"), "JPEG")
    p3 = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    foreign = encode(picture(), "JPEG", icc_profile=p3)

    for data in (cmyk, foreign):
        result = process_image(io.BytesIO(data))
        # then: a new JPEG, RGB, not the upload's coded picture
        assert result.preview is None
        assert result.content != coded_picture(data)
        assert reopen(result.content).mode == "RGB"
    assert coded_picture(cmyk) is None


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff\xd9",  # no frame, no scan
        b"\xff\xd8\xff\xe0\x00",  # a segment cut short
    ],
)
def test_coded_picture_refuses_what_it_does_not_understand(data: bytes) -> None:
    assert coded_picture(data) is None
    full = encode(picture(), "JPEG")
    assert coded_picture(full[: len(full) - 2]) is None  # no end marker
