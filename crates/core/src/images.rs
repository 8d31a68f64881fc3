//! An organization's logo upload: PNG, JPG or SVG of at most 2 MB, its real type
//! told by content (never by the file name), cropped to a square and stored at
//! 200x200. Rasters are decoded under limits and re-encoded as PNG, which drops
//! any metadata. SVGs that could run code or fetch something are refused; the
//! rest are rewritten by an allowlist writer, so nothing the allowlist does not
//! name reaches a browser.

use std::fmt::Write as _;
use std::io::Cursor;

use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use roxmltree::{Attribute, Document, Node, ParsingOptions};

use crate::{Error, FieldError, Result};

pub const MAX_LOGO_BYTES: usize = 2 * 1024 * 1024;
pub const LOGO_SIZE: u32 = 200;

/// Largest side of a raster we agree to decode.
const MAX_SIDE: u32 = 8192;
/// Largest raster in pixels: bounds the memory a small, highly compressed file can make us allocate.
const MAX_PIXELS: u64 = 40_000_000;
/// A logo has at most a few thousand nodes; this bounds the parse of a hostile 2 MB document.
const MAX_SVG_NODES: u32 = 200_000;

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const SVG_NS: &str = "http://www.w3.org/2000/svg";
const XLINK_NS: &str = "http://www.w3.org/1999/xlink";

/// Drawing elements that can neither run code nor load anything by themselves.
const SVG_ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "defs",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "use",
    "symbol",
    "title",
    "desc",
];

/// Elements whose text children are content; elsewhere text is only formatting whitespace.
const SVG_TEXT_ELEMENTS: &[&str] = &["text", "tspan", "title", "desc"];

/// Presentation and geometry attributes. No `style` or `class`: CSS is where
/// escapes could hide a `url()` from the checks below.
const SVG_ATTRIBUTES: &[&str] = &[
    "id",
    "d",
    "x",
    "y",
    "dx",
    "dy",
    "width",
    "height",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "fx",
    "fy",
    "x1",
    "y1",
    "x2",
    "y2",
    "points",
    "fill",
    "fill-opacity",
    "fill-rule",
    "clip-rule",
    "stroke",
    "stroke-width",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-opacity",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-miterlimit",
    "opacity",
    "transform",
    "viewBox",
    "preserveAspectRatio",
    "offset",
    "stop-color",
    "stop-opacity",
    "gradientUnits",
    "gradientTransform",
    "spreadMethod",
    "clipPathUnits",
    "maskUnits",
    "maskContentUnits",
    "clip-path",
    "mask",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "letter-spacing",
    "visibility",
    "display",
    "href",
];

/// The root's geometry is replaced by the crop box, so its own is not copied.
const ROOT_REPLACED: &[&str] = &["x", "y", "width", "height", "viewBox"];

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
        return Err(Error::new(
            413,
            "logo_too_large",
            "Payload too large",
            "The logo is larger than 2 MB. Use a smaller PNG, JPG or SVG file.",
        ));
    }
    match detect(bytes) {
        Some(LogoKind::Png) => process_raster(bytes, ImageFormat::Png, crop),
        Some(LogoKind::Jpeg) => process_raster(bytes, ImageFormat::Jpeg, crop),
        Some(LogoKind::Svg) => process_svg(bytes, crop),
        None => Err(Error::new(
            415,
            "unsupported_logo_type",
            "Unsupported media type",
            "The file is not a PNG, JPG or SVG image. Use a PNG, JPG or SVG file.",
        )),
    }
}

// ---------------------------------------------------------------- errors

fn unreadable(detail: impl Into<String>) -> Error {
    Error::new(422, "logo_unreadable", "Unprocessable logo", detail)
}

fn unreadable_raster() -> Error {
    unreadable(
        "The file could not be read as an image; it may be damaged or incomplete. \
         Export it again from your image editor and upload the new file.",
    )
}

fn unreadable_svg(reason: &str) -> Error {
    unreadable(format!("The SVG could not be read: {reason}. Export it again and upload the new file."))
}

fn unsafe_svg(found: &str) -> Error {
    Error::new(
        422,
        "unsafe_svg",
        "Unsafe SVG",
        format!("{found} Remove scripts, event handlers, foreignObject and external references, or upload a PNG."),
    )
}

fn doctype_refused() -> Error {
    Error::new(
        422,
        "unsafe_svg",
        "Unsafe SVG",
        "The SVG contains a DOCTYPE declaration; DTDs and entities are not allowed. \
         Remove the DOCTYPE, or upload a PNG.",
    )
}

fn dimensions_too_large(width: u32, height: u32) -> Error {
    Error::new(
        422,
        "logo_dimensions_too_large",
        "Unprocessable logo",
        format!(
            "The image is {width}x{height} pixels; a logo may be at most {MAX_SIDE} pixels on a side and \
             40 megapixels in all. Scale it down and upload it again."
        ),
    )
}

fn invalid_crop(message: String) -> Error {
    Error::validation(vec![FieldError::new("crop", "invalid", message)])
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
        return Err(invalid_crop(format!(
            "The crop box must be a square at least 1 pixel wide that lies inside the {width}x{height} image."
        )));
    }
    // In range by the checks above: x <= width - 1, so the rounded values stay inside too.
    let x = crop.x.round() as u32;
    let y = crop.y.round() as u32;
    let side = (crop.size.round() as u32).min(width - x).min(height - y).max(1);
    Ok((x, y, side))
}

// ---------------------------------------------------------------- SVG sniffing

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// `Some(has_doctype)` when `text` is an XML document whose root element is `svg`.
fn sniff_svg(text: &str) -> Option<bool> {
    let mut rest = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut doctype = false;
    loop {
        rest = rest.trim_start_matches(is_xml_space);
        if let Some(after) = rest.strip_prefix("<?") {
            // The XML declaration or a processing instruction.
            rest = &after[after.find("?>")? + 2..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if rest.get(..9).is_some_and(|head| head.eq_ignore_ascii_case("<!DOCTYPE")) {
            doctype = true;
            rest = skip_doctype(rest)?;
        } else {
            let after = rest.strip_prefix('<')?;
            let end = after.find(|c: char| is_xml_space(c) || c == '>' || c == '/')?;
            let name = &after[..end];
            let local = name.rsplit(':').next().unwrap_or(name);
            return (local == "svg").then_some(doctype);
        }
    }
}

/// The text after a `<!DOCTYPE ...>`, stepping over an internal subset and quoted strings.
fn skip_doctype(text: &str) -> Option<&str> {
    let mut quote = None;
    let mut depth = 0u32;
    for (i, b) in text.bytes().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                // Every delimiter is ASCII, so `i + 1` is a character boundary.
                b'>' if depth == 0 => return Some(&text[i + 1..]),
                _ => {}
            },
        }
    }
    None
}

// ---------------------------------------------------------------- SVG checks

/// A viewBox: the user-space rectangle an SVG shows.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ViewBox {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

fn process_svg(bytes: &[u8], crop: Option<Crop>) -> Result<Logo> {
    let text = std::str::from_utf8(bytes).map_err(|_| unreadable_svg("it is not UTF-8 text"))?;
    // roxmltree accepts a DOCTYPE without an internal subset; we refuse every DTD.
    match sniff_svg(text) {
        Some(true) => return Err(doctype_refused()),
        Some(false) => {}
        None => return Err(unreadable_svg("its root element is not <svg>")),
    }
    // DTDs stay refused (the default), which also rules out custom entities.
    let options = ParsingOptions { allow_dtd: false, nodes_limit: MAX_SVG_NODES, ..ParsingOptions::default() };
    let doc = Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => doctype_refused(),
        roxmltree::Error::NodesLimitReached => unreadable_svg("it has too many elements for a logo"),
        other => unreadable_svg(&format!("it is not well-formed XML ({other})")),
    })?;
    check_svg_safety(&doc)?;

    let root = doc.root_element();
    if root.tag_name().name() != "svg" || !in_svg_namespace(root) {
        return Err(unreadable_svg("its root element is not an SVG <svg> element"));
    }
    let view = svg_view_box(root)?;
    let square = svg_crop(view, crop)?;
    Ok(Logo { content_type: "image/svg+xml", bytes: write_svg(root, square).into_bytes() })
}

/// Refuses anything that could run code or load a resource. This looks at the
/// whole document, including parts the writer would drop anyway: such a file
/// was made to attack, and saying so beats quietly serving a changed picture.
fn check_svg_safety(doc: &Document) -> Result<()> {
    for node in doc.descendants() {
        if let Some(pi) = node.pi() {
            if pi.target.eq_ignore_ascii_case("xml-stylesheet") {
                return Err(unsafe_svg("The SVG links a stylesheet (<?xml-stylesheet?>)."));
            }
            continue;
        }
        if !node.is_element() {
            continue;
        }
        let name = node.tag_name().name();
        if name.eq_ignore_ascii_case("script") {
            return Err(unsafe_svg("The SVG contains a script."));
        }
        if name.eq_ignore_ascii_case("foreignObject") {
            return Err(unsafe_svg("The SVG contains a foreignObject element."));
        }
        if name.eq_ignore_ascii_case("style") {
            let css: String = node.children().filter_map(|child| child.text()).collect();
            if has_external_url(&css) || css.to_ascii_lowercase().contains("@import") {
                return Err(unsafe_svg("The SVG's stylesheet references an external resource."));
            }
        }
        for attr in node.attributes() {
            check_attribute(name, &attr)?;
        }
    }
    Ok(())
}

fn check_attribute(element: &str, attr: &Attribute) -> Result<()> {
    let name = attr.name();
    let value = attr.value();
    if name.get(..2).is_some_and(|prefix| prefix.eq_ignore_ascii_case("on")) {
        return Err(unsafe_svg(&format!("The SVG contains an event handler ({name} on <{element}>).")));
    }
    if name == "href" && !value.trim_start().starts_with('#') {
        return Err(unsafe_svg(&format!("The SVG contains an external reference (href on <{element}>).")));
    }
    if let Some(scheme) = dangerous_scheme(value) {
        return Err(unsafe_svg(&format!("The SVG contains a {scheme} URL ({name} on <{element}>).")));
    }
    if has_external_url(value) {
        return Err(unsafe_svg(&format!("The SVG contains an external url() reference ({name} on <{element}>).")));
    }
    Ok(())
}

/// A `javascript:`, `vbscript:` or `data:` URL anywhere in `value`. Browsers
/// ignore whitespace and control characters inside a scheme, so we do too.
fn dangerous_scheme(value: &str) -> Option<&'static str> {
    let compact: String = value
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    for scheme in ["javascript:", "vbscript:", "data:"] {
        for (at, _) in compact.match_indices(scheme) {
            // Only a scheme when it starts a word: `metadata:` is not `data:`.
            let before = compact[..at].chars().next_back();
            if !before.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) {
                return Some(scheme);
            }
        }
    }
    None
}

/// A `url(...)` whose target is anything but a same-document `#fragment`.
fn has_external_url(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    lower.match_indices("url(").any(|(at, _)| {
        let target = lower[at + 4..].trim_start();
        let target = target.strip_prefix(['"', '\'']).unwrap_or(target);
        !target.starts_with('#')
    })
}

fn in_svg_namespace(node: Node) -> bool {
    matches!(node.tag_name().namespace(), None | Some(SVG_NS))
}

// ---------------------------------------------------------------- SVG geometry

fn svg_view_box(root: Node) -> Result<ViewBox> {
    if let Some(raw) = root.attribute("viewBox") {
        let numbers: Option<Vec<f64>> = raw
            .split(|c: char| is_xml_space(c) || c == ',')
            .filter(|part| !part.is_empty())
            .map(|part| part.parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect();
        return match numbers.as_deref() {
            Some(&[x, y, width, height]) if width > 0.0 && height > 0.0 => Ok(ViewBox { x, y, width, height }),
            _ => Err(unreadable_svg("its viewBox is not four numbers with a positive width and height")),
        };
    }
    match (root.attribute("width").and_then(parse_length), root.attribute("height").and_then(parse_length)) {
        (Some(width), Some(height)) if width > 0.0 && height > 0.0 => Ok(ViewBox { x: 0.0, y: 0.0, width, height }),
        _ => Err(unreadable_svg(
            "its size can't be determined; give the <svg> element a viewBox, or a width and height in pixels",
        )),
    }
}

/// An absolute SVG length in user units (CSS pixels). Relative units (`%`,
/// `em`) depend on where the image is shown, so they give `None`.
fn parse_length(raw: &str) -> Option<f64> {
    let raw = raw.trim_matches(is_xml_space);
    let units: [(&str, f64); 6] =
        [("px", 1.0), ("pt", 4.0 / 3.0), ("pc", 16.0), ("in", 96.0), ("cm", 96.0 / 2.54), ("mm", 96.0 / 25.4)];
    let (number, scale) =
        units.iter().find_map(|(unit, scale)| raw.strip_suffix(unit).map(|n| (n, *scale))).unwrap_or((raw, 1.0));
    let value = number.parse::<f64>().ok()? * scale;
    value.is_finite().then_some(value)
}

fn svg_crop(view: ViewBox, crop: Option<Crop>) -> Result<ViewBox> {
    let Some(crop) = crop else {
        let side = view.width.min(view.height);
        return Ok(ViewBox {
            x: view.x + (view.width - side) / 2.0,
            y: view.y + (view.height - side) / 2.0,
            width: side,
            height: side,
        });
    };
    // Tolerance for a box computed in floating point by the client from the same numbers.
    let slack = view.width.max(view.height) * 1e-9;
    let inside = [crop.x, crop.y, crop.size].iter().all(|v| v.is_finite())
        && crop.size > 0.0
        && crop.x >= view.x - slack
        && crop.y >= view.y - slack
        && crop.x + crop.size <= view.x + view.width + slack
        && crop.y + crop.size <= view.y + view.height + slack;
    if !inside {
        return Err(invalid_crop(format!(
            "The crop box must be a square that lies inside the SVG's viewBox ({} {} {} {}).",
            view.x, view.y, view.width, view.height
        )));
    }
    Ok(ViewBox { x: crop.x, y: crop.y, width: crop.size, height: crop.size })
}

// ---------------------------------------------------------------- SVG writer

/// The allowlisted name of an element, or `None` when it is dropped with its children.
fn allowed_element(node: Node) -> Option<&'static str> {
    if !node.is_element() || !in_svg_namespace(node) {
        return None;
    }
    let name = node.tag_name().name();
    SVG_ELEMENTS.iter().copied().find(|allowed| *allowed == name)
}

fn allowed_attribute(attr: &Attribute) -> Option<&'static str> {
    match attr.namespace() {
        None => SVG_ATTRIBUTES.iter().copied().find(|allowed| *allowed == attr.name()),
        // `xlink:href` is written as SVG 2's plain `href`.
        Some(XLINK_NS) if attr.name() == "href" => Some("href"),
        _ => None,
    }
}

/// Re-serializes `root` from scratch: only allowlisted elements and attributes,
/// every text and value escaped, comments and processing instructions gone.
fn write_svg(root: Node, view: ViewBox) -> String {
    enum Step<'a, 'input> {
        Open(Node<'a, 'input>),
        Close(&'static str),
    }

    let mut out = String::with_capacity(1024);
    out.push_str("<svg xmlns=\"");
    out.push_str(SVG_NS);
    // Writing into a String cannot fail.
    let _ = write!(
        out,
        "\" width=\"{LOGO_SIZE}\" height=\"{LOGO_SIZE}\" viewBox=\"{} {} {} {}\"",
        view.x, view.y, view.width, view.height
    );
    write_attributes(&mut out, root, ROOT_REPLACED);
    out.push('>');

    // An explicit stack rather than recursion: nesting depth is the uploader's choice.
    let mut stack: Vec<Step> = root.children().rev().map(Step::Open).collect();
    while let Some(step) = stack.pop() {
        match step {
            Step::Close(name) => {
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
            Step::Open(node) if node.is_text() => {
                let in_text_element =
                    node.parent_element().is_some_and(|parent| SVG_TEXT_ELEMENTS.contains(&parent.tag_name().name()));
                if in_text_element {
                    escape_into(&mut out, node.text().unwrap_or_default());
                }
            }
            Step::Open(node) => {
                let Some(name) = allowed_element(node) else { continue };
                out.push('<');
                out.push_str(name);
                write_attributes(&mut out, node, &[]);
                if node.has_children() {
                    out.push('>');
                    stack.push(Step::Close(name));
                    stack.extend(node.children().rev().map(Step::Open));
                } else {
                    out.push_str("/>");
                }
            }
        }
    }
    out.push_str("</svg>");
    out
}

fn write_attributes(out: &mut String, node: Node, skip: &[&str]) {
    let mut wrote_href = false;
    for attr in node.attributes() {
        let Some(name) = allowed_attribute(&attr) else { continue };
        let value = attr.value();
        if skip.contains(&name) {
            continue;
        }
        // Presentation attributes are parsed as CSS, whose escapes could spell a `url(` we did not see.
        if value.contains('\\') {
            continue;
        }
        if name == "href" {
            // `href` and `xlink:href` on one element would become a duplicate attribute.
            if wrote_href || !value.trim_start().starts_with('#') {
                continue;
            }
            wrote_href = true;
        }
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape_into(out, value);
        out.push('"');
    }
}

/// Escapes for both text and double-quoted attribute values; line breaks in
/// values become references so they survive attribute-value normalization.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, Rgb, RgbImage, Rgba};

    const RED: Rgb<u8> = Rgb([255, 0, 0]);
    const GREEN: Rgb<u8> = Rgb([0, 255, 0]);
    const BLUE: Rgb<u8> = Rgb([0, 0, 255]);
    const WHITE: Rgb<u8> = Rgb([255, 255, 255]);

    fn encode(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        image.write_to(&mut Cursor::new(&mut out), format).unwrap();
        out
    }

    fn decode_png(logo: &Logo) -> DynamicImage {
        assert_eq!(logo.content_type, "image/png");
        assert_eq!(detect(&logo.bytes), Some(LogoKind::Png));
        image::load_from_memory_with_format(&logo.bytes, ImageFormat::Png).unwrap()
    }

    fn assert_near(pixel: Rgba<u8>, expected: Rgb<u8>) {
        for channel in 0..3 {
            let diff = pixel.0[channel].abs_diff(expected.0[channel]);
            assert!(diff <= 8, "pixel {pixel:?} is not close to {expected:?}");
        }
    }

    /// Three side-by-side 100x100 bands: red, green, blue.
    fn bands() -> RgbImage {
        RgbImage::from_fn(300, 100, |x, _| match x {
            0..100 => RED,
            100..200 => GREEN,
            _ => BLUE,
        })
    }

    /// A 200x200 image in quadrants: red, green on top; blue, white below.
    fn quadrants() -> RgbImage {
        RgbImage::from_fn(200, 200, |x, y| match (x < 100, y < 100) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => WHITE,
        })
    }

    fn noise(width: u32, height: u32) -> RgbImage {
        let mut state = 0x2545_f491_u32;
        RgbImage::from_fn(width, height, |_, _| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let [r, g, b, _] = state.to_le_bytes();
            Rgb([r, g, b])
        })
    }

    fn svg(body: &str) -> Vec<u8> {
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">{body}</svg>"#).into_bytes()
    }

    fn sanitized(input: &[u8]) -> String {
        let logo = process_logo(input, None).unwrap();
        assert_eq!(logo.content_type, "image/svg+xml");
        String::from_utf8(logo.bytes).unwrap()
    }

    fn error_code(input: &[u8]) -> (u16, &'static str) {
        let error = process_logo(input, None).unwrap_err();
        (error.status, error.code)
    }

    fn root_attr(output: &str, name: &str) -> String {
        let doc = Document::parse(output).unwrap();
        doc.root_element().attribute(name).unwrap().to_owned()
    }

    #[test]
    fn detects_kinds_by_content() {
        assert_eq!(detect(&encode(&quadrants(), ImageFormat::Png)), Some(LogoKind::Png));
        assert_eq!(detect(&encode(&quadrants(), ImageFormat::Jpeg)), Some(LogoKind::Jpeg));
        assert_eq!(detect(&svg("")), Some(LogoKind::Svg));
        let with_prelude = "\u{feff}<?xml version=\"1.0\"?>\n<!-- made by hand -->\n<svg:svg xmlns:svg=\"x\"/>";
        assert_eq!(detect(with_prelude.as_bytes()), Some(LogoKind::Svg));
        assert_eq!(detect(b"<html><svg></svg></html>"), None);
        assert_eq!(detect(b"<svgfoo/>"), None);
        assert_eq!(detect(b"GIF89a\x01\x00\x01\x00"), None);
        assert_eq!(detect(b""), None);
    }

    #[test]
    fn png_becomes_a_200px_square_png() {
        let logo = process_logo(&encode(&noise(400, 400), ImageFormat::Png), None).unwrap();
        let image = decode_png(&logo);
        assert_eq!(image.dimensions(), (LOGO_SIZE, LOGO_SIZE));
    }

    #[test]
    fn jpeg_becomes_a_png() {
        let logo = process_logo(&encode(&quadrants(), ImageFormat::Jpeg), None).unwrap();
        let image = decode_png(&logo);
        assert_eq!(image.dimensions(), (200, 200));
        assert_near(image.get_pixel(50, 50), RED);
        assert_near(image.get_pixel(150, 150), WHITE);
    }

    #[test]
    fn non_square_image_is_cropped_from_the_center() {
        let image = decode_png(&process_logo(&encode(&bands(), ImageFormat::Png), None).unwrap());
        assert_eq!(image.dimensions(), (200, 200));
        for (x, y) in [(0, 0), (100, 100), (199, 199), (0, 199)] {
            assert_near(image.get_pixel(x, y), GREEN);
        }
    }

    #[test]
    fn explicit_crop_keeps_the_chosen_region() {
        let png = encode(&quadrants(), ImageFormat::Png);
        let image = decode_png(&process_logo(&png, Some(Crop { x: 100.0, y: 0.0, size: 100.0 })).unwrap());
        assert_eq!(image.dimensions(), (200, 200));
        for (x, y) in [(0, 0), (100, 100), (199, 199)] {
            assert_near(image.get_pixel(x, y), GREEN);
        }
        let image = decode_png(&process_logo(&png, Some(Crop { x: 0.0, y: 100.0, size: 100.0 })).unwrap());
        assert_near(image.get_pixel(100, 100), BLUE);
    }

    #[test]
    fn crop_outside_the_image_is_refused() {
        let png = encode(&quadrants(), ImageFormat::Png);
        let bad = [
            Crop { x: 150.0, y: 0.0, size: 100.0 },
            Crop { x: -1.0, y: 0.0, size: 50.0 },
            Crop { x: 0.0, y: 0.0, size: 0.5 },
            Crop { x: f64::NAN, y: 0.0, size: 10.0 },
        ];
        for crop in bad {
            let error = process_logo(&png, Some(crop)).unwrap_err();
            assert_eq!((error.status, error.code), (422, "validation_failed"), "{crop:?}");
            assert_eq!(error.errors[0].field, "crop");
        }
    }

    #[test]
    fn oversize_file_is_refused() {
        let mut big = encode(&quadrants(), ImageFormat::Png);
        big.resize(3 * 1024 * 1024, 0);
        let error = process_logo(&big, None).unwrap_err();
        assert_eq!((error.status, error.code, error.title), (413, "logo_too_large", "Payload too large"));
        assert!(error.detail.contains("2 MB"));
    }

    #[test]
    fn other_types_are_refused_as_unsupported() {
        for input in [&b"just some notes\n"[..], b"GIF89a\x01\x00\x01\x00\x80\x00\x00", b"RIFF\x00\x00\x00\x00WEBP"] {
            let error = process_logo(input, None).unwrap_err();
            assert_eq!((error.status, error.code), (415, "unsupported_logo_type"));
            assert!(error.detail.contains("PNG, JPG or SVG"));
        }
    }

    #[test]
    fn truncated_png_is_unreadable() {
        let png = encode(&noise(120, 120), ImageFormat::Png);
        for cut in [png.len() / 2, 20] {
            assert_eq!(error_code(&png[..cut]), (422, "logo_unreadable"), "cut at {cut}");
        }
        let jpeg = encode(&noise(120, 120), ImageFormat::Jpeg);
        for cut in [jpeg.len() / 3, jpeg.len() - 2] {
            assert_eq!(error_code(&jpeg[..cut]), (422, "logo_unreadable"), "cut at {cut}");
        }
        // Bytes after the end-of-image marker are common and harmless.
        let mut trailing = jpeg.clone();
        trailing.extend_from_slice(b"trailing bytes");
        assert!(process_logo(&trailing, None).is_ok());
    }

    /// A PNG whose header claims `width`x`height`, followed by a scrap of IDAT.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let start = out.len();
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&crc32fast::hash(&out[start..]).to_be_bytes());
        }
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut out = PNG_MAGIC.to_vec();
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(&mut out, b"IDAT", &[0x78, 0x9c]);
        out
    }

    #[test]
    fn huge_dimensions_are_refused_before_decoding() {
        for (width, height) in [(8000, 6000), (9000, 10), (10, 9000)] {
            let error = process_logo(&png_header(width, height), None).unwrap_err();
            assert_eq!((error.status, error.code), (422, "logo_dimensions_too_large"), "{width}x{height}");
            assert!(error.detail.contains(&format!("{width}x{height}")));
        }
    }

    #[test]
    fn svg_with_script_is_refused() {
        let error = process_logo(&svg("<script>alert(1)</script>"), None).unwrap_err();
        assert_eq!((error.status, error.code), (422, "unsafe_svg"));
        assert!(error.detail.contains("script"));
        assert_eq!(error_code(&svg("<g><SCRIPT/></g>")).1, "unsafe_svg");
    }

    #[test]
    fn svg_with_event_handler_is_refused() {
        let input = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)"/>"#;
        let error = process_logo(input, None).unwrap_err();
        assert_eq!(error.code, "unsafe_svg");
        assert!(error.detail.contains("onload"));
        assert_eq!(error_code(&svg(r#"<rect width="1" height="1" OnClick="x()"/>"#)).1, "unsafe_svg");
    }

    #[test]
    fn svg_with_foreign_object_is_refused() {
        let input = svg(r#"<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>"#);
        assert_eq!(error_code(&input), (422, "unsafe_svg"));
    }

    #[test]
    fn svg_with_external_references_is_refused() {
        let xlink = br#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
            viewBox="0 0 10 10"><use xlink:href="https://evil.example/x.svg#a"/></svg>"#;
        assert_eq!(error_code(xlink), (422, "unsafe_svg"));
        let refused = [
            r#"<image href="logo.png"/>"#,
            r#"<rect width="1" height="1" fill="url(https://evil.example/p.svg#g)"/>"#,
            r#"<rect width="1" height="1" fill="url( 'x.svg#g' )"/>"#,
            r#"<a href="javascript:alert(1)"><rect width="1" height="1"/></a>"#,
            r#"<rect width="1" height="1" fill="java&#9;script:alert(1)"/>"#,
            r#"<rect width="1" height="1" mask="url(data:image/svg+xml,abc)"/>"#,
            "<style>@import 'https://evil.example/a.css';</style>",
            "<style>rect { fill: url(http://evil.example/p) }</style>",
        ];
        for body in refused {
            assert_eq!(error_code(&svg(body)), (422, "unsafe_svg"), "{body}");
        }
        let stylesheet =
            br#"<?xml-stylesheet href="a.css"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>"#;
        assert_eq!(error_code(stylesheet), (422, "unsafe_svg"));
    }

    #[test]
    fn same_document_references_are_kept() {
        let output = sanitized(&svg(concat!(
            r#"<defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient>"#,
            r#"<circle id="a" r="5"/></defs>"#,
            r##"<use href="#a"/><rect width="9" height="9" fill="url(#g)" inkscape:label="metadata: x""##,
            r#" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"/>"#,
        )));
        assert!(output.contains(r##"<use href="#a"/>"##), "{output}");
        assert!(output.contains(r##"fill="url(#g)""##), "{output}");
        assert!(!output.contains("inkscape"), "{output}");

        let xlink = br##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
            viewBox="0 0 10 10"><use xlink:href="#a" href="#a"/></svg>"##;
        assert!(sanitized(xlink).contains(r##"<use href="#a"/>"##));
    }

    #[test]
    fn sanitized_svg_is_square_200px_and_drops_the_unknown() {
        let input = concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- exported -->\n",
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100" viewBox="0 0 300 100" class="c">"#,
            "<metadata><rdf>secret</rdf></metadata><style>rect { fill: red }</style>",
            r#"<g transform="translate(1 2)" style="fill:red" data-x="1"><!-- note --><rect x="100" width="100" height="100"/>"#,
            "<text x=\"5\" y=\"5\">a &lt; b &amp; c<tspan> &gt; d</tspan></text></g></svg>",
        );
        let output = sanitized(input.as_bytes());
        assert_eq!(root_attr(&output, "width"), "200");
        assert_eq!(root_attr(&output, "height"), "200");
        assert_eq!(root_attr(&output, "viewBox"), "100 0 100 100");
        for gone in ["metadata", "secret", "style", "class", "data-x", "note", "<?xml", "<!--"] {
            assert!(!output.contains(gone), "{gone} in {output}");
        }
        assert!(output.contains("a &lt; b &amp; c<tspan> &gt; d</tspan>"), "{output}");
        assert!(output.contains(r#"<g transform="translate(1 2)"><rect x="100" width="100" height="100"/>"#));
        // The output is well-formed and keeps the text.
        let doc = Document::parse(&output).unwrap();
        let text = doc.descendants().find(|n| n.has_tag_name((SVG_NS, "text"))).unwrap();
        assert_eq!(text.first_child().unwrap().text(), Some("a < b & c"));
    }

    #[test]
    fn svg_size_comes_from_width_and_height_without_a_view_box() {
        let input =
            br#"<svg xmlns="http://www.w3.org/2000/svg" width="40px" height="100"><rect width="1" height="1"/></svg>"#;
        assert_eq!(root_attr(&sanitized(input), "viewBox"), "0 30 40 40");
        let inches = br#"<svg xmlns="http://www.w3.org/2000/svg" width="1in" height="1in"/>"#;
        assert_eq!(root_attr(&sanitized(inches), "viewBox"), "0 0 96 96");
        for unknown in [
            &br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#[..],
            br#"<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="100%"/>"#,
            br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 0 10"/>"#,
        ] {
            assert_eq!(error_code(unknown), (422, "logo_unreadable"));
        }
    }

    #[test]
    fn svg_explicit_crop_becomes_the_view_box() {
        let input = svg("<rect width=\"50\" height=\"50\"/>");
        let logo = process_logo(&input, Some(Crop { x: 10.0, y: 20.0, size: 30.5 })).unwrap();
        let output = String::from_utf8(logo.bytes).unwrap();
        assert_eq!(root_attr(&output, "viewBox"), "10 20 30.5 30.5");
        let error = process_logo(&input, Some(Crop { x: 80.0, y: 0.0, size: 30.0 })).unwrap_err();
        assert_eq!((error.status, error.code), (422, "validation_failed"));
        assert_eq!(error.errors[0].field, "crop");
    }

    #[test]
    fn svg_with_doctype_or_entities_is_refused() {
        let entities = concat!(
            "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;\">]>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\"><text>&b;</text></svg>",
        );
        let public = concat!(
            "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" ",
            "\"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\"/>",
        );
        for input in [entities, public] {
            let error = process_logo(input.as_bytes(), None).unwrap_err();
            assert_eq!((error.status, error.code), (422, "unsafe_svg"));
            assert!(error.detail.contains("DOCTYPE"));
        }
        // An undeclared entity is simply not well-formed.
        assert_eq!(error_code(&svg("<text>&x;</text>")), (422, "logo_unreadable"));
    }

    #[test]
    fn broken_svg_is_unreadable() {
        assert_eq!(
            error_code(b"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\"><g>"),
            (422, "logo_unreadable")
        );
        assert_eq!(error_code(br#"<svg xmlns="http://example.com/not-svg" viewBox="0 0 1 1"/>"#).1, "logo_unreadable");
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let depth = 100_000;
        let input = svg(&format!("{}{}", "<g>".repeat(depth), "</g>".repeat(depth)));
        let output = sanitized(&input);
        assert_eq!(output.matches("<g").count(), depth);
    }
}
