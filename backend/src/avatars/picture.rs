//! From an uploaded file to the two pictures the server keeps. The file is decoded by
//! its content (the declared type is not trusted) under limits that stop a small file
//! from claiming a huge canvas, turned upright by its EXIF orientation, cropped to its
//! central square and re-encoded as lossless WebP at 256 and 64 px. Only the pixels
//! survive: EXIF (GPS included), ICC profiles, comments and animation frames after the
//! first are gone.

use std::io::Cursor;

use image::codecs::webp::WebPEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

/// The largest upload accepted, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// The longest side a picture may declare.
pub const MAX_SIDE: u32 = 8192;
/// What decoding one upload may allocate: a 4096 x 4096 RGBA canvas, or a 12
/// megapixel photo in RGB. One decode runs per permit, so this bounds the memory.
pub const MAX_DECODE_BYTES: u64 = 64 * 1024 * 1024;
/// What the server serves the pictures as.
pub const CONTENT_TYPE: &str = "image/webp";

/// The two sizes kept, as square sides in pixels.
pub const LARGE: u32 = 256;
pub const SMALL: u32 = 64;

/// Why an upload is not a usable picture.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    #[error("not a JPEG, PNG, WebP or GIF image")]
    Unsupported,
    #[error("the image is damaged or incomplete")]
    Damaged,
    #[error("the image is too large to decode")]
    TooLarge,
    #[error("the picture could not be encoded")]
    Encode(#[source] ImageError),
}

/// An upload turned into the pictures to store.
pub struct Pictures {
    /// A hash of the content: the pictures' URL changes with it.
    pub version: String,
    pub small: Vec<u8>,
    pub large: Vec<u8>,
    /// What was uploaded, for the audit trail.
    pub source: Source,
}

/// What an upload was.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub format: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Decodes, crops and re-encodes `upload`. CPU-bound (tens of milliseconds for a
/// photo): run it on a blocking thread.
pub fn process(upload: &[u8]) -> Result<Pictures, PictureError> {
    let (image, format) = decode(upload)?;
    let source = Source {
        format,
        width: image.width(),
        height: image.height(),
    };
    let square = central_square(image);
    let large = if square.width() >= LARGE {
        // Area sampling: fast from any size, and without the ringing of a long filter.
        square.thumbnail_exact(LARGE, LARGE)
    } else {
        square.resize_exact(LARGE, LARGE, FilterType::CatmullRom)
    };
    let small = large.resize_exact(SMALL, SMALL, FilterType::Lanczos3);
    let large = encode(&large)?;
    let small = encode(&small)?;
    Ok(Pictures {
        version: version_of(&large),
        small,
        large,
        source,
    })
}

fn decode(upload: &[u8]) -> Result<(DynamicImage, &'static str), PictureError> {
    let mut reader = ImageReader::new(Cursor::new(upload))
        .with_guessed_format()
        .map_err(|_| PictureError::Damaged)?;
    let format = match reader.format() {
        Some(ImageFormat::Jpeg) => "jpeg",
        Some(ImageFormat::Png) => "png",
        Some(ImageFormat::WebP) => "webp",
        Some(ImageFormat::Gif) => "gif",
        _ => return Err(PictureError::Unsupported),
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(classify)?;
    // The reader checks the canvas against `max_alloc` only in `decode`, which
    // would not give us the orientation: check it here, before any pixel is read.
    if decoder.total_bytes() > MAX_DECODE_BYTES {
        return Err(PictureError::TooLarge);
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(classify)?;
    image.apply_orientation(orientation);
    Ok((image, format))
}

fn classify(err: ImageError) -> PictureError {
    match err {
        ImageError::Limits(_) => PictureError::TooLarge,
        ImageError::Unsupported(_) => PictureError::Unsupported,
        _ => PictureError::Damaged,
    }
}

/// The largest centred square, in 8-bit RGB (RGBA when the image has transparency).
fn central_square(image: DynamicImage) -> DynamicImage {
    let side = image.width().min(image.height());
    let x = (image.width() - side) / 2;
    let y = (image.height() - side) / 2;
    let square = image.crop_imm(x, y, side, side);
    if square.color().has_alpha() {
        DynamicImage::ImageRgba8(square.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(square.to_rgb8())
    }
}

fn encode(image: &DynamicImage) -> Result<Vec<u8>, PictureError> {
    let mut out = Vec::new();
    image
        .write_with_encoder(WebPEncoder::new_lossless(&mut out))
        .map_err(PictureError::Encode)?;
    Ok(out)
}

/// 64 bits of SHA-256, in hex: enough to tell one account's pictures apart.
fn version_of(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..8])
}

#[cfg(test)]
mod tests {
    use image::{ImageEncoder, Rgb, RgbImage, codecs::png::PngEncoder};

    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, _| {
            // Left half red, right half blue: the crop keeps the middle.
            if x < width / 2 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        let mut out = Vec::new();
        PngEncoder::new(&mut out)
            .write_image(
                image.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        out
    }

    fn decoded(webp: &[u8]) -> DynamicImage {
        let reader = ImageReader::new(Cursor::new(webp))
            .with_guessed_format()
            .unwrap();
        assert_eq!(reader.format(), Some(ImageFormat::WebP));
        reader.decode().unwrap()
    }

    #[test]
    fn a_wide_picture_becomes_two_centred_webp_squares() {
        let pictures = process(&png(600, 300)).unwrap();
        let large = decoded(&pictures.large);
        let small = decoded(&pictures.small);
        assert_eq!((large.width(), large.height()), (LARGE, LARGE));
        assert_eq!((small.width(), small.height()), (SMALL, SMALL));
        // The central square of a red|blue picture is still red on the left.
        let rgb = large.to_rgb8();
        assert_eq!(rgb.get_pixel(10, 128).0, [255, 0, 0]);
        assert_eq!(rgb.get_pixel(245, 128).0, [0, 0, 255]);
        assert_eq!(pictures.source.format, "png");
        assert_eq!((pictures.source.width, pictures.source.height), (600, 300));
        assert_eq!(pictures.version.len(), 16);
    }

    #[test]
    fn a_tiny_picture_is_scaled_up() {
        let pictures = process(&png(20, 30)).unwrap();
        assert_eq!(decoded(&pictures.large).width(), LARGE);
    }

    #[test]
    fn the_same_picture_gets_the_same_version_and_another_a_new_one() {
        let one = process(&png(100, 100)).unwrap();
        assert_eq!(one.version, process(&png(100, 100)).unwrap().version);
        assert_ne!(one.version, process(&png(100, 90)).unwrap().version);
    }

    #[test]
    fn text_and_unknown_formats_are_unsupported() {
        assert!(matches!(
            process(b"%PDF-1.7 not a picture"),
            Err(PictureError::Unsupported)
        ));
        assert!(matches!(process(b""), Err(PictureError::Unsupported)));
    }

    #[test]
    fn a_truncated_picture_is_damaged() {
        let png = png(64, 64);
        assert!(matches!(
            process(&png[..png.len() / 2]),
            Err(PictureError::Damaged)
        ));
    }

    /// `png` with the canvas size its header declares changed (and its CRC fixed).
    fn claiming(mut png: Vec<u8>, width: u32, height: u32) -> Vec<u8> {
        // IHDR's data sits at bytes 16..29, its CRC (of type and data) after it.
        png[16..20].copy_from_slice(&width.to_be_bytes());
        png[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32fast::hash(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    #[test]
    fn a_small_file_claiming_a_huge_canvas_is_refused_before_decoding() {
        let too_wide = claiming(png(8, 8), 60_000, 10);
        assert!(matches!(process(&too_wide), Err(PictureError::TooLarge)));
        // Within the side limit, but 8000 x 8000 RGB would need 192 MB.
        let too_many = claiming(png(8, 8), 8000, 8000);
        assert!(matches!(process(&too_many), Err(PictureError::TooLarge)));
    }
}
