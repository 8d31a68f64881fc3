//! A report as PDF (krilla): title, organization, range, the usage chart
//! (plotters' SVG drawn through krilla-svg), the table with a running header
//! on every page, totals, and when it was generated. Fonts are DejaVu Sans,
//! carried in the binary, so a PDF reads the same on every machine.

use std::sync::{Arc, LazyLock};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Size};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla_svg::{SurfaceExt, SvgSettings};
use steward_core::reports::{Line, share};

use super::Contents;
use crate::charts::FAMILY;
use crate::console::format;

// A4 in points, and the margins.
const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 48.0;
const ROW: f32 = 16.0;
const BODY: f32 = 9.5;
const CHART_HEIGHT: f32 = 190.0;

struct Fonts {
    regular: Font,
    bold: Font,
    /// For measuring text (right-aligned numbers, names cut to their column).
    face: ttf_parser::Face<'static>,
    svg: Arc<usvg::fontdb::Database>,
}

static FONTS: LazyLock<Option<Fonts>> = LazyLock::new(|| {
    let (regular, bold) = (dejavu::sans::regular(), dejavu::sans::bold());
    let mut db = usvg::fontdb::Database::new();
    db.load_font_data(regular.to_vec());
    db.load_font_data(bold.to_vec());
    db.set_sans_serif_family("DejaVu Sans");
    Some(Fonts {
        regular: Font::new(regular.into(), 0)?,
        bold: Font::new(bold.into(), 0)?,
        face: ttf_parser::Face::parse(regular, 0).ok()?,
        svg: Arc::new(db),
    })
});

/// Where each column starts, and whether it is right-aligned (at its end).
struct Columns {
    /// (heading, left edge, right edge, right-aligned)
    cols: Vec<(&'static str, f32, f32, bool)>,
}

impl Columns {
    fn new(subject: &'static str, detail: Option<&'static str>) -> Self {
        let right = WIDTH - MARGIN;
        let (used_l, share_l) = (right - 150.0, right - 55.0);
        let mut cols = vec![(subject, MARGIN, if detail.is_some() { MARGIN + 190.0 } else { used_l - 10.0 }, false)];
        if let Some(d) = detail {
            cols.push((d, MARGIN + 200.0, used_l - 10.0, false));
        }
        cols.push(("Credits used", used_l, share_l - 10.0, true));
        cols.push(("Share", share_l, right, true));
        Columns { cols }
    }
}

fn width_of(fonts: &Fonts, text: &str, size: f32) -> f32 {
    let per_unit = size / f32::from(fonts.face.units_per_em());
    text.chars()
        .map(|c| fonts.face.glyph_index(c).and_then(|g| fonts.face.glyph_hor_advance(g)).unwrap_or(0))
        .map(|a| f32::from(a) * per_unit)
        .sum()
}

/// `text` cut with an ellipsis so it fits `room` points.
fn fit(fonts: &Fonts, text: &str, size: f32, room: f32) -> String {
    if width_of(fonts, text, size) <= room {
        return text.to_owned();
    }
    let mut cut: String = text.to_owned();
    while !cut.is_empty() && width_of(fonts, &format!("{cut}…"), size) > room {
        cut.pop();
    }
    format!("{cut}…")
}

fn ink(surface: &mut Surface<'_>, r: u8, g: u8, b: u8) {
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        ..Fill::default()
    }));
}

fn text(surface: &mut Surface<'_>, font: &Font, size: f32, x: f32, y: f32, s: &str) {
    surface.draw_text(Point::from_xy(x, y), font.clone(), size, s, false, TextDirection::Auto);
}

fn rule(surface: &mut Surface<'_>, y: f32, weight: f32) {
    let mut pb = PathBuilder::new();
    pb.move_to(MARGIN, y);
    pb.line_to(WIDTH - MARGIN, y);
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(0x99, 0x99, 0x99).into(),
            width: weight,
            ..Stroke::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}

fn row(surface: &mut Surface<'_>, fonts: &Fonts, font: &Font, columns: &Columns, y: f32, cells: &[String]) {
    for ((_, left, right, right_aligned), cell) in columns.cols.iter().zip(cells) {
        let shown = fit(fonts, cell, BODY, right - left);
        let x = if *right_aligned { right - width_of(fonts, &shown, BODY) } else { *left };
        text(surface, font, BODY, x, y, &shown);
    }
}

fn cells(line: &Line, total: i64, with_detail: bool) -> Vec<String> {
    let mut out = vec![line.name.clone()];
    if with_detail {
        out.push(line.detail.clone());
    }
    out.push(format::int(line.used));
    out.push(format!("{} %", share(line.used, total)));
    out
}

/// The PDF's bytes; `None` if the fonts or the document could not be made
/// (logged: nothing the requester can mend).
pub fn render(c: &Contents) -> Option<Vec<u8>> {
    let Some(fonts) = FONTS.as_ref() else {
        tracing::error!("the bundled DejaVu fonts do not load");
        return None;
    };
    let columns = Columns::new(c.report_type.subject(), steward_core::reports::detail_heading(c.report_type));
    let with_detail = columns.cols.len() == 4;
    let mut doc = Document::new();
    doc.set_metadata(Metadata::new().title(format!("{} — {}", c.report_type.title(), c.org_name)));
    let first_top = MARGIN + 96.0 + CHART_HEIGHT + 28.0;
    let first_rows = ((HEIGHT - MARGIN - first_top) / ROW) as usize - 1;
    let later_rows = ((HEIGHT - 2.0 * MARGIN - 20.0) / ROW) as usize - 1;
    // Rows on each page: the table's lines, then the total.
    let rows = c.lines.len() + 1;
    let pages = 1 + rows.saturating_sub(first_rows).div_ceil(later_rows);
    let mut next = 0;
    for page_no in 0..pages {
        let mut page = doc.start_page_with(PageSettings::from_wh(WIDTH, HEIGHT)?);
        let mut s = page.surface();
        let mut y = MARGIN;
        ink(&mut s, 0x11, 0x11, 0x11);
        if page_no == 0 {
            text(&mut s, &fonts.bold, 20.0, MARGIN, y + 18.0, c.report_type.title());
            text(&mut s, &fonts.regular, 12.0, MARGIN, y + 40.0, &c.org_name);
            ink(&mut s, 0x44, 0x44, 0x44);
            text(&mut s, &fonts.regular, 10.0, MARGIN, y + 58.0, &format!("Period: {}", c.range_text));
            text(&mut s, &fonts.regular, 10.0, MARGIN, y + 72.0, &format!("Generated: {}", c.generated_text));
            text(&mut s, &fonts.regular, 10.0, MARGIN, y + 86.0, &c.summary);
            y += 96.0;
            if let Some(svg) = c.chart.svg(720, 276) {
                let options =
                    usvg::Options { fontdb: fonts.svg.clone(), font_family: FAMILY.into(), ..usvg::Options::default() };
                match usvg::Tree::from_str(&svg, &options) {
                    Ok(tree) => {
                        s.push_transform(&krilla::geom::Transform::from_translate(MARGIN, y));
                        s.draw_svg(&tree, Size::from_wh(WIDTH - 2.0 * MARGIN, CHART_HEIGHT)?, SvgSettings::default());
                        s.pop();
                    }
                    Err(e) => tracing::error!(error = %e, "the report's chart does not parse"),
                }
            }
            y = first_top - ROW;
        }
        // The table's header on every page.
        ink(&mut s, 0x11, 0x11, 0x11);
        let headings: Vec<String> = columns.cols.iter().map(|(h, ..)| (*h).to_owned()).collect();
        row(&mut s, fonts, &fonts.bold, &columns, y + 12.0, &headings);
        rule(&mut s, y + 16.0, 0.8);
        y += ROW;
        let room = if page_no == 0 { first_rows } else { later_rows };
        for _ in 0..room {
            if next < c.lines.len() {
                row(&mut s, fonts, &fonts.regular, &columns, y + 12.0, &cells(&c.lines[next], c.total, with_detail));
                y += ROW;
            } else if next == c.lines.len() {
                rule(&mut s, y + 2.0, 0.8);
                let mut total = vec!["Total".to_owned()];
                if with_detail {
                    total.push(format!("{} lines", format::int(c.lines.len() as i64)));
                }
                total.push(format::int(c.total));
                total.push(if c.total > 0 { "100.0 %".into() } else { "0.0 %".into() });
                row(&mut s, fonts, &fonts.bold, &columns, y + 14.0, &total);
                y += ROW;
            }
            next += 1;
        }
        ink(&mut s, 0x66, 0x66, 0x66);
        let footer = format!("{} · page {} of {pages}", c.org_name, page_no + 1);
        text(&mut s, &fonts.regular, 8.0, MARGIN, HEIGHT - MARGIN / 2.0, &footer);
        s.finish();
        page.finish();
    }
    match doc.finish() {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            tracing::error!(error = ?e, "a report's PDF could not be written");
            None
        }
    }
}
