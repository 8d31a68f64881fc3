//! Tests of logo processing, on inputs made in code.
use roxmltree::Document;

use super::svg::SVG_NS;
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
    assert_eq!((error.status, error.code, error.title), (413, "logo_too_large", "Logo too large"));
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
    let stylesheet = br#"<?xml-stylesheet href="a.css"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>"#;
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
