//! An organization's logo upload: PNG, JPG or SVG of at most 2 MB, its real type
//! told by content (never by the file name), cropped to a square and stored at
//! 200x200. Rasters are decoded under limits and re-encoded as PNG, which drops
//! any metadata. SVGs that could run code or fetch something are refused; the
//! rest are rewritten by an allowlist writer, so nothing the allowlist does not
//! name reaches a browser.

use std::io::Cursor;

use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use crate::messages::{problem, rule};
use crate::{Error, Result};

pub const MAX_LOGO_BYTES: usize = 2 * 1024 * 1024;
pub const LOGO_SIZE: u32 = 200;

/// Largest side of a raster we agree to decode.
const MAX_SIDE: u32 = 8192;
/// Largest raster in pixels: bounds the memory a small, highly compressed file can make us allocate.
const MAX_PIXELS: u64 = 40_000_000;

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoKind {
    Png,
    Jpeg,
    Svg,
}

/// A square crop box in the source image's own pixels (for SVG: in viewBox units). None = centered largest square.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crop {
    pub x: f64,
    pub y: f64,
    pub size: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The kind of image `bytes` hold, judged by content alone. An SVG is UTF-8
/// text whose root element is `<svg>`, after an optional BOM, XML declaration,
/// comments, processing instructions or a DOCTYPE (detected so that it can be
/// refused with a precise reason rather than as an unknown type).
pub fn detect(bytes: &[u8]) -> Option<LogoKind> {
    if bytes.starts_with(PNG_MAGIC) {
        return Some(LogoKind::Png);
    }
    if bytes.starts_with(JPEG_MAGIC) {
        return Some(LogoKind::Jpeg);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    sniff_svg(text).map(|_| LogoKind::Svg)
}

/// Checks, crops and scales an uploaded logo to the stored 200x200 form: a PNG
/// for PNG and JPEG uploads, a sanitized SVG for SVG uploads. A raster's crop
/// box is in its pixels as displayed, that is after any EXIF rotation.
pub fn process_logo(bytes: &[u8], crop: Option<Crop>) -> Result<Logo> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(Error::new(413, &problem::LOGO_TOO_LARGE, &[]));
    }
    match detect(bytes) {
        Some(LogoKind::Png) => process_raster(bytes, ImageFormat::Png, crop),
        Some(LogoKind::Jpeg) => process_raster(bytes, ImageFormat::Jpeg, crop),
        Some(LogoKind::Svg) => process_svg(bytes, crop),
        None => Err(Error::new(415, &problem::UNSUPPORTED_LOGO_TYPE, &[])),
    }
}

// ---------------------------------------------------------------- errors

fn unreadable(kind: &str, reason: &str) -> Error {
    Error::new(422, &problem::LOGO_UNREADABLE, &[("kind", &kind), ("reason", &reason)])
}

fn unreadable_raster() -> Error {
    unreadable("image", "it may be damaged or incomplete")
}

fn unreadable_svg(reason: &str) -> Error {
    unreadable("SVG", reason)
}

fn unsafe_svg(found: &str) -> Error {
    Error::new(422, &problem::UNSAFE_SVG, &[("found", &found)])
}

fn doctype_refused() -> Error {
    unsafe_svg("a DOCTYPE declaration (DTDs and entities are not allowed)")
}

fn dimensions_too_large(width: u32, height: u32) -> Error {
    Error::new(
        422,
        &problem::LOGO_DIMENSIONS_TOO_LARGE,
        &[("width", &width), ("height", &height), ("max_side", &MAX_SIDE)],
    )
}

// ---------------------------------------------------------------- raster

fn process_raster(bytes: &[u8], format: ImageFormat, crop: Option<Crop>) -> Result<Logo> {
    // Read the header alone first, so an oversize image is refused by its size
    // before any pixel buffer exists, and the message can name that size.
    let (width, height) =
        ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(|_| unreadable_raster())?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(dimensions_too_large(width, height));
    }
    if width == 0 || height == 0 || (format == ImageFormat::Jpeg && !jpeg_is_complete(bytes)) {
        return Err(unreadable_raster());
    }

    // The decoder enforces the same bounds itself, in case the header lied.
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| decode_error(e, width, height))?;
    // Cameras store rotation as EXIF; applying it makes the crop box match what the person saw.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(e, width, height))?;
    image.apply_orientation(orientation);

    let (x, y, side) = raster_crop(image.width(), image.height(), crop)?;
    let square = image.crop_imm(x, y, side, side);
    drop(image);
    // 8 bits per channel is what a 200 px logo needs; it also folds 16-bit and grey images into one form.
    let square = if square.color().has_alpha() {
        DynamicImage::ImageRgba8(square.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(square.to_rgb8())
    };
    let logo = square.resize_exact(LOGO_SIZE, LOGO_SIZE, FilterType::Lanczos3);

    let mut out = Vec::new();
    // Encoding our own in-memory 200x200 buffer can only fail on a bug.
    logo.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).map_err(|_| Error::internal())?;
    Ok(Logo { content_type: "image/png", bytes: out })
}

/// The JPEG decoder fills a truncated scan with grey instead of failing, so
/// check that the end-of-image marker follows the last start-of-scan. Those
/// markers can't occur inside entropy-coded data (an 0xFF there is stuffed).
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let marker = |code: u8| move |pair: &[u8]| pair == [0xFF, code];
    let Some(last_scan) = bytes.windows(2).rposition(marker(0xDA)) else { return false };
    bytes[last_scan..].windows(2).any(marker(0xD9))
}

fn decode_error(error: ImageError, width: u32, height: u32) -> Error {
    match error {
        ImageError::Limits(_) => dimensions_too_large(width, height),
        _ => unreadable_raster(),
    }
}

/// The crop as whole pixels `(x, y, side)`, checked against the image.
fn raster_crop(width: u32, height: u32, crop: Option<Crop>) -> Result<(u32, u32, u32)> {
    let Some(crop) = crop else {
        let side = width.min(height);
        return Ok(((width - side) / 2, (height - side) / 2, side));
    };
    let (w, h) = (f64::from(width), f64::from(height));
    let inside = [crop.x, crop.y, crop.size].iter().all(|v| v.is_finite())
        && crop.size >= 1.0
        && crop.x >= 0.0
        && crop.y >= 0.0
        && crop.x + crop.size <= w
        && crop.y + crop.size <= h;
    if !inside {
        let detail = format!("the image is {width}x{height} pixels; the square must be at least 1 pixel wide");
        return Err(Error::field("crop", &rule::CROP_OUTSIDE, &[("detail", &detail)]));
    }
    // In range by the checks above: x <= width - 1, so the rounded values stay inside too.
    let x = crop.x.round() as u32;
    let y = crop.y.round() as u32;
    let side = (crop.size.round() as u32).min(width - x).min(height - y).max(1);
    Ok((x, y, side))
}

// ---------------------------------------------------------------- SVG sniffing

mod svg;
use svg::{process_svg, sniff_svg};

#[cfg(test)]
mod tests;
