//! SVG logos: sniffing, refusing active content, and rewriting from an allowlist.

use std::fmt::Write as _;

use roxmltree::{Attribute, Document, Node, ParsingOptions};

use super::*;

/// A logo has at most a few thousand nodes; this bounds the parse of a hostile 2 MB document.
pub(super) const MAX_SVG_NODES: u32 = 200_000;
pub(super) const SVG_NS: &str = "http://www.w3.org/2000/svg";
pub(super) const XLINK_NS: &str = "http://www.w3.org/1999/xlink";

/// Drawing elements that can neither run code nor load anything by themselves.
pub(super) const SVG_ELEMENTS: &[&str] = &[
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
pub(super) const SVG_TEXT_ELEMENTS: &[&str] = &["text", "tspan", "title", "desc"];

/// Presentation and geometry attributes. No `style` or `class`: CSS is where
/// escapes could hide a `url()` from the checks below.
pub(super) const SVG_ATTRIBUTES: &[&str] = &[
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
pub(super) const ROOT_REPLACED: &[&str] = &["x", "y", "width", "height", "viewBox"];

pub(super) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// `Some(has_doctype)` when `text` is an XML document whose root element is `svg`.
pub(super) fn sniff_svg(text: &str) -> Option<bool> {
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
pub(super) fn skip_doctype(text: &str) -> Option<&str> {
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
pub(super) struct ViewBox {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

pub(super) fn process_svg(bytes: &[u8], crop: Option<Crop>) -> Result<Logo> {
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
pub(super) fn check_svg_safety(doc: &Document) -> Result<()> {
    for node in doc.descendants() {
        if let Some(pi) = node.pi() {
            if pi.target.eq_ignore_ascii_case("xml-stylesheet") {
                return Err(unsafe_svg("a stylesheet link (<?xml-stylesheet?>)"));
            }
            continue;
        }
        if !node.is_element() {
            continue;
        }
        let name = node.tag_name().name();
        if name.eq_ignore_ascii_case("script") {
            return Err(unsafe_svg("a script"));
        }
        if name.eq_ignore_ascii_case("foreignObject") {
            return Err(unsafe_svg("a foreignObject element"));
        }
        if name.eq_ignore_ascii_case("style") {
            let css: String = node.children().filter_map(|child| child.text()).collect();
            if has_external_url(&css) || css.to_ascii_lowercase().contains("@import") {
                return Err(unsafe_svg("a stylesheet that references an external resource"));
            }
        }
        for attr in node.attributes() {
            check_attribute(name, &attr)?;
        }
    }
    Ok(())
}

pub(super) fn check_attribute(element: &str, attr: &Attribute) -> Result<()> {
    let name = attr.name();
    let value = attr.value();
    if name.get(..2).is_some_and(|prefix| prefix.eq_ignore_ascii_case("on")) {
        return Err(unsafe_svg(&format!("an event handler ({name} on <{element}>)")));
    }
    if name == "href" && !value.trim_start().starts_with('#') {
        return Err(unsafe_svg(&format!("an external reference (href on <{element}>)")));
    }
    if let Some(scheme) = dangerous_scheme(value) {
        return Err(unsafe_svg(&format!("a {scheme} URL ({name} on <{element}>)")));
    }
    if has_external_url(value) {
        return Err(unsafe_svg(&format!("an external url() reference ({name} on <{element}>)")));
    }
    Ok(())
}

/// A `javascript:`, `vbscript:` or `data:` URL anywhere in `value`. Browsers
/// ignore whitespace and control characters inside a scheme, so we do too.
pub(super) fn dangerous_scheme(value: &str) -> Option<&'static str> {
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
pub(super) fn has_external_url(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    lower.match_indices("url(").any(|(at, _)| {
        let target = lower[at + 4..].trim_start();
        let target = target.strip_prefix(['"', '\'']).unwrap_or(target);
        !target.starts_with('#')
    })
}

pub(super) fn in_svg_namespace(node: Node) -> bool {
    matches!(node.tag_name().namespace(), None | Some(SVG_NS))
}

// ---------------------------------------------------------------- SVG geometry

pub(super) fn svg_view_box(root: Node) -> Result<ViewBox> {
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
pub(super) fn parse_length(raw: &str) -> Option<f64> {
    let raw = raw.trim_matches(is_xml_space);
    let units: [(&str, f64); 6] =
        [("px", 1.0), ("pt", 4.0 / 3.0), ("pc", 16.0), ("in", 96.0), ("cm", 96.0 / 2.54), ("mm", 96.0 / 25.4)];
    let (number, scale) =
        units.iter().find_map(|(unit, scale)| raw.strip_suffix(unit).map(|n| (n, *scale))).unwrap_or((raw, 1.0));
    let value = number.parse::<f64>().ok()? * scale;
    value.is_finite().then_some(value)
}

pub(super) fn svg_crop(view: ViewBox, crop: Option<Crop>) -> Result<ViewBox> {
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
        let detail = format!("the SVG's viewBox is {} {} {} {}", view.x, view.y, view.width, view.height);
        return Err(Error::field("crop", &crate::messages::rule::CROP_OUTSIDE, &[("detail", &detail)]));
    }
    Ok(ViewBox { x: crop.x, y: crop.y, width: crop.size, height: crop.size })
}

// ---------------------------------------------------------------- SVG writer

/// The allowlisted name of an element, or `None` when it is dropped with its children.
pub(super) fn allowed_element(node: Node) -> Option<&'static str> {
    if !node.is_element() || !in_svg_namespace(node) {
        return None;
    }
    let name = node.tag_name().name();
    SVG_ELEMENTS.iter().copied().find(|allowed| *allowed == name)
}

pub(super) fn allowed_attribute(attr: &Attribute) -> Option<&'static str> {
    match attr.namespace() {
        None => SVG_ATTRIBUTES.iter().copied().find(|allowed| *allowed == attr.name()),
        // `xlink:href` is written as SVG 2's plain `href`.
        Some(XLINK_NS) if attr.name() == "href" => Some("href"),
        _ => None,
    }
}

/// Re-serializes `root` from scratch: only allowlisted elements and attributes,
/// every text and value escaped, comments and processing instructions gone.
pub(super) fn write_svg(root: Node, view: ViewBox) -> String {
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

pub(super) fn write_attributes(out: &mut String, node: Node, skip: &[&str]) {
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
pub(super) fn escape_into(out: &mut String, text: &str) {
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
