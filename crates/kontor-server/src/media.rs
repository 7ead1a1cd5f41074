//! What an uploaded file really is, and making images safe to share:
//! the type is sniffed from the content (the client's claim is ignored),
//! metadata (EXIF with its GPS position, XMP, IPTC, comments) is cut out
//! of images without re-encoding them, and thumbnails are decoded under
//! explicit limits so a decompression bomb is refused, not decoded.
//! The one piece of EXIF that is kept is the orientation, rewritten as an
//! EXIF block of its own: without it a photo taken with the phone turned
//! would show on its side.
//!
//! Everything here is synchronous CPU work: callers run it on the
//! blocking pool.

use std::io::Cursor;

use bytes::Bytes;
use image::metadata::Orientation;
use image::{ImageDecoder, ImageFormat, ImageReader, Limits};
use img_parts::ImageEXIF;
use img_parts::jpeg::{Jpeg, markers};
use img_parts::png::Png;
use img_parts::webp::WebP;

/// Longest side of a thumbnail in pixels.
pub const THUMBNAIL_PIXELS: u32 = 320;
/// Largest image file processed (stripped and thumbnailed): stripping needs
/// the file in memory, so the upload refuses larger images before reading
/// them in.
pub const MAX_IMAGE_BYTES: u64 = 50 * 1024 * 1024;
/// Most memory the decoder may allocate for one image, whatever the
/// budget (`files.image_memory_mib`) allows.
const MAX_DECODE_ALLOC: u64 = 4 * 1024 * 1024 * 1024;

/// Types shown inline by browsers without risk: they cannot run script in
/// our origin. Everything else is served as a download in a sandbox.
const INLINE_SAFE: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/webm",
    "audio/mpeg",
    "audio/ogg",
    "application/pdf",
    "text/plain; charset=utf-8",
];

/// Whether files of this (sniffed) type may be shown inline.
pub fn inline_safe(content_type: &str) -> bool {
    INLINE_SAFE.contains(&content_type)
}

/// The type of a file, from its first bytes (a few KiB suffice).
pub fn sniff(head: &[u8]) -> String {
    // Binary formats by their magic numbers; markup is classified below,
    // where an SVG inside an XML prologue is still an SVG.
    if let Some(kind) = infer::get(head) {
        let t = kind.mime_type();
        if !t.starts_with("text/") && t != "application/xml" {
            return t.to_owned();
        }
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // A multi-byte character may be cut at the end of the head.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return "application/octet-stream".into(),
    };
    let lower = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    if lower.contains("<svg") {
        "image/svg+xml".into()
    } else if lower.starts_with("<!doctype html")
        || lower.contains("<html")
        || lower.contains("<script")
        || lower.contains("<body")
    {
        "text/html".into()
    } else if lower.starts_with("<?xml") {
        "application/xml".into()
    } else {
        "text/plain; charset=utf-8".into()
    }
}

/// Why an image was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Too many pixels or bytes to process safely.
    #[error("{0}")]
    TooLarge(String),
    /// Not decodable as the type it claims to be.
    #[error("the image cannot be read: {0}")]
    Broken(String),
}

/// An image made safe to store.
pub struct CleanImage {
    /// The image without metadata.
    pub bytes: Bytes,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// A small preview (JPEG).
    pub thumbnail: Vec<u8>,
}

fn format_of(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// Whether `clean_image` handles this type.
pub fn is_processed_image(content_type: &str) -> bool {
    format_of(content_type).is_some()
}

/// An EXIF block (little-endian TIFF) holding nothing but the orientation
/// tag (0x0112): one IFD with one SHORT entry and no next IFD.
fn orientation_exif(orientation: Orientation) -> Bytes {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&u16::from(orientation.to_exif()).to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    Bytes::from(tiff)
}

/// Remove metadata segments and chunks, keeping the pixels as they are;
/// a turned photo gets back an EXIF block with only its orientation.
fn strip_metadata(
    content_type: &str,
    bytes: Bytes,
    orientation: Orientation,
) -> Result<Bytes, ImageError> {
    let broken = |e: img_parts::Error| ImageError::Broken(e.to_string());
    let exif = (orientation != Orientation::NoTransforms).then(|| orientation_exif(orientation));
    match content_type {
        "image/jpeg" => {
            let mut jpeg = Jpeg::from_bytes(bytes).map_err(broken)?;
            // APP1 carries EXIF and XMP, APP13 IPTC; comments may name
            // people or devices. APP0 (JFIF), APP2 (colour profile) and
            // APP14 (Adobe colour transform) are needed to show the image.
            jpeg.segments_mut().retain(|s| {
                let m = s.marker();
                !(m == markers::APP1 || m == markers::APP13 || m == markers::COM)
            });
            jpeg.set_exif(exif);
            Ok(jpeg.encoder().bytes())
        }
        "image/png" => {
            let mut png = Png::from_bytes(bytes).map_err(broken)?;
            png.chunks_mut()
                .retain(|c| !matches!(&c.kind(), b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME"));
            png.set_exif(exif);
            Ok(png.encoder().bytes())
        }
        "image/webp" => {
            let mut webp = WebP::from_bytes(bytes).map_err(broken)?;
            webp.chunks_mut()
                .retain(|c| !matches!(&c.id(), b"EXIF" | b"XMP "));
            webp.set_exif(exif);
            Ok(webp.encoder().bytes())
        }
        // GIF has no EXIF; its comment extensions are dropped by the
        // thumbnail and left in the original, which browsers never show.
        _ => Ok(bytes),
    }
}

/// What processing one image will cost, known from its header before any
/// of it is read into memory: the upload waits until the server's image
/// memory budget has room for `memory_bytes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImagePlan {
    /// Width as stored (before the orientation is applied).
    pub width: u32,
    /// Height as stored.
    pub height: u32,
    /// Most memory processing may take: the decoded pixels, the file
    /// three times (as read, as the decoder's copy, and stripped) and the
    /// thumbnail's buffers.
    pub memory_bytes: u64,
}

/// Room for the thumbnail's buffers and the JPEG encoder.
const THUMBNAIL_WORK_BYTES: u64 = 2 * 1024 * 1024;

/// Bytes per decoded pixel, at most, for what the header says. The
/// decoders keep a PNG's channels and depth (a palette expands to RGBA);
/// JPEG comes out as RGB or grey; GIF and WebP frames are composed on an
/// RGBA canvas, which may need a second frame buffer.
fn decoded_bytes_per_pixel(format: ImageFormat, head: &[u8]) -> u64 {
    match format {
        ImageFormat::Png => {
            // IHDR is the first chunk: bit depth at byte 24, colour type at 25.
            let depth = head.get(24).copied().unwrap_or(16);
            let channels = match head.get(25).copied() {
                Some(0) => 1,
                Some(2) => 3,
                Some(4) => 2,
                _ => 4,
            };
            channels * if depth == 16 { 2 } else { 1 }
        }
        ImageFormat::Jpeg => 3,
        _ => 8,
    }
}

/// Read an image's size from its header (`file` is read only as far as
/// the header goes) and say what processing it would cost. Refuses an
/// image with more than `max_pixels` or one whose processing would need
/// more than `max_memory` bytes, before anything is decoded.
pub fn plan(
    content_type: &str,
    file: &std::path::Path,
    head: &[u8],
    file_len: u64,
    max_pixels: u64,
    max_memory: u64,
) -> Result<ImagePlan, ImageError> {
    let format = format_of(content_type)
        .ok_or_else(|| ImageError::Broken(format!("{content_type} is not an image type")))?;
    let reader = std::fs::File::open(file)
        .map(std::io::BufReader::new)
        .map_err(|e| ImageError::Broken(e.to_string()))?;
    let size = imagesize::reader_size(reader).map_err(|e| ImageError::Broken(e.to_string()))?;
    let (Ok(width), Ok(height)) = (u32::try_from(size.width), u32::try_from(size.height)) else {
        return Err(ImageError::TooLarge("the image is too large".into()));
    };
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(ImageError::TooLarge(format!(
            "the image is {width} × {height} pixels; at most {} megapixels are accepted",
            max_pixels / 1_000_000
        )));
    }
    let memory_bytes = pixels
        .saturating_mul(decoded_bytes_per_pixel(format, head))
        .saturating_add(file_len.saturating_mul(3))
        .saturating_add(THUMBNAIL_WORK_BYTES);
    if memory_bytes > max_memory {
        return Err(ImageError::TooLarge(format!(
            "the image ({width} × {height} pixels) would need {} MiB to process; at most {} MiB \
             are available for one image",
            memory_bytes.div_ceil(1024 * 1024),
            max_memory / (1024 * 1024)
        )));
    }
    Ok(ImagePlan {
        width,
        height,
        memory_bytes,
    })
}

/// Whether showing an image with this orientation swaps width and height.
fn turns_sideways(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// Strip an image's metadata and make a thumbnail, within what `plan`
/// allowed: the decoder refuses an image larger than its header said and
/// allocations beyond the planned memory. The full-size image is decoded
/// once and never copied: it is scaled down first, and only the thumbnail
/// is turned upright.
pub fn clean_image(
    content_type: &str,
    bytes: Bytes,
    plan: &ImagePlan,
) -> Result<CleanImage, ImageError> {
    let format = format_of(content_type)
        .ok_or_else(|| ImageError::Broken(format!("{content_type} is not an image type")))?;
    let reader = |b: &Bytes| {
        let mut r = ImageReader::with_format(Cursor::new(b.clone()), format);
        let mut limits = Limits::default();
        limits.max_image_width = Some(plan.width);
        limits.max_image_height = Some(plan.height);
        limits.max_alloc = Some(plan.memory_bytes.min(MAX_DECODE_ALLOC));
        r.limits(limits);
        r
    };
    let broken = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => ImageError::TooLarge(
            "the image is larger than its header says or needs too much memory to process".into(),
        ),
        e => ImageError::Broken(e.to_string()),
    };
    let mut decoder = reader(&bytes).into_decoder().map_err(broken)?;
    // Unreadable EXIF is no reason to refuse a photo: it shows as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    drop(decoder);
    let clean = strip_metadata(content_type, bytes, orientation)?;
    let (stored_width, stored_height, mut small) = {
        let decoded = reader(&clean).decode().map_err(broken)?;
        let (w, h) = (decoded.width(), decoded.height());
        // Small images keep their size: a thumbnail never enlarges.
        let small = if w <= THUMBNAIL_PIXELS && h <= THUMBNAIL_PIXELS {
            decoded
        } else {
            decoded.thumbnail(THUMBNAIL_PIXELS, THUMBNAIL_PIXELS)
        };
        (w, h, small)
    };
    // Thumbnails and the reported size are the image as it is shown.
    small.apply_orientation(orientation);
    let (width, height) = if turns_sideways(orientation) {
        (stored_height, stored_width)
    } else {
        (stored_width, stored_height)
    };
    let small = small.to_rgba8();
    // Thumbnails are JPEG: transparent parts are laid on white.
    let flat = image::RgbImage::from_fn(small.width(), small.height(), |x, y| {
        let [r, g, b, a] = small.get_pixel(x, y).0;
        let a = u16::from(a);
        let over_white = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    });
    let mut thumbnail = Vec::new();
    image::DynamicImage::ImageRgb8(flat)
        .write_to(&mut Cursor::new(&mut thumbnail), ImageFormat::Jpeg)
        .map_err(|e| ImageError::Broken(e.to_string()))?;
    Ok(CleanImage {
        bytes: clean,
        width,
        height,
        thumbnail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), "application/pdf");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(
            sniff(b"<svg xmlns='http://www.w3.org/2000/svg'>"),
            "image/svg+xml"
        );
        assert_eq!(
            sniff(b"<?xml version='1.0'?><svg onload='alert(1)'/>"),
            "image/svg+xml"
        );
        assert_eq!(sniff(b"  <!DOCTYPE html><p>hi"), "text/html");
        assert_eq!(sniff(b"<script>alert(1)</script>"), "text/html");
        assert_eq!(
            sniff("Grüße aus dem Lager".as_bytes()),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            sniff(&[0xff, 0x00, 0xfe, 0x01, 0x80]),
            "application/octet-stream"
        );
        assert!(inline_safe("image/png") && !inline_safe("image/svg+xml"));
        assert!(!inline_safe("text/html") && !inline_safe("application/octet-stream"));
    }
}
