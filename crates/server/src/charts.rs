//! Charts as SVG (plotters' SVG backend), drawn on the server: the console
//! puts one inline in a page, a PDF report draws the same through krilla-svg.
//! Axis text is drawn in [`INK`] so the console can swap it for
//! `currentColor` and follow its light or dark theme.

use plotters::prelude::*;

use crate::console::format;

/// The colour axis text and lines are drawn in; a placeholder a page replaces.
pub const INK: RGBColor = RGBColor(0x01, 0x02, 0x03);
const INK_HEX: &str = "#010203";
const USED: RGBColor = RGBColor(0x25, 0x63, 0xeb);
const PROJECTED: RGBColor = RGBColor(0x93, 0xb4, 0xf5);
/// The family usvg is told to find (the PDF's fontdb holds DejaVu Sans under it).
pub const FAMILY: &str = "sans-serif";

/// Credits used per period, and what the next periods would use at the current rate.
#[derive(Debug, Clone, Default)]
pub struct UsageChart {
    /// Each period's first day (`2026-11-02`) and its credits used, oldest first.
    pub periods: Vec<(String, i64)>,
    /// The periods after, projected at the current rate (may be empty).
    pub projected: Vec<(String, i64)>,
    /// The x axis's name: Day, Week starting, Month.
    pub x_name: String,
}

impl UsageChart {
    /// The chart as an SVG document `width` × `height` pixels; `None` when
    /// plotters could not draw it (nothing a caller can mend: logged).
    pub fn svg(&self, width: u32, height: u32) -> Option<String> {
        let mut out = String::new();
        if let Err(e) = self.draw(&mut out, width, height) {
            tracing::error!(error = %e, "a usage chart could not be drawn");
            return None;
        }
        Some(out)
    }

    /// The SVG for a console page: ink follows the page's text colour.
    pub fn svg_for_page(&self, width: u32, height: u32) -> Option<String> {
        self.svg(width, height).map(|s| s.replace(INK_HEX, "currentColor"))
    }

    fn draw(&self, out: &mut String, width: u32, height: u32) -> Result<(), Box<dyn std::error::Error>> {
        let labels: Vec<&str> = self.periods.iter().chain(&self.projected).map(|(l, _)| l.as_str()).collect();
        let n = labels.len().max(1) as i64;
        let peak = self.periods.iter().chain(&self.projected).map(|(_, v)| *v).max().unwrap_or(0);
        // Headroom above the tallest bar, and an axis even when nothing was used.
        let top = (peak + peak / 10).max(10);
        let root = SVGBackend::with_string(out, (width, height)).into_drawing_area();
        let text = (FAMILY, 14).into_font().color(&INK);
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(72)
            .build_cartesian_2d(0..n, 0..top)?;
        let x_label = |x: &i64| labels.get(*x as usize).map(|l| l.to_string()).unwrap_or_default();
        let y_label = |y: &i64| format::int(*y);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(6.min(labels.len()).max(2))
            .y_labels(5)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .x_desc(self.x_name.as_str())
            .y_desc("Credits used")
            .label_style(text.clone())
            .axis_desc_style(text)
            .axis_style(INK)
            .light_line_style(INK.mix(0.08))
            .bold_line_style(INK.mix(0.15))
            .draw()?;
        let bar = |i: usize, v: i64, color: RGBColor| {
            let mut r = Rectangle::new([(i as i64, 0), (i as i64 + 1, v)], color.filled());
            r.set_margin(0, 0, 1, 1);
            r
        };
        chart.draw_series(self.periods.iter().enumerate().map(|(i, (_, v))| bar(i, *v, USED)))?;
        let start = self.periods.len();
        chart.draw_series(self.projected.iter().enumerate().map(|(i, (_, v))| bar(start + i, *v, PROJECTED)))?;
        root.present()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::UsageChart;

    #[test]
    fn the_chart_has_its_axes_labels_and_one_bar_per_period() {
        let chart = UsageChart {
            periods: vec![("2026-11-01".into(), 1200), ("2026-11-02".into(), 300)],
            projected: vec![("2026-11-03".into(), 750)],
            x_name: "Day".into(),
        };
        let svg = chart.svg(600, 240).expect("drawn");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("Credits used") && svg.contains("\nDay\n</text>"), "axis names: {svg}");
        assert!(svg.contains("2026-11-01") && svg.contains("2026-11-03"), "period labels");
        assert!(svg.contains("1,200") || svg.contains("1,000"), "thousands on the y axis: {svg}");
        assert_eq!(svg.matches("#2563EB").count(), 2, "a bar per period used");
        assert_eq!(svg.matches("#93B4F5").count(), 1, "a bar per projected period");
        let page = chart.svg_for_page(600, 240).expect("drawn");
        assert!(!page.contains("#010203") && page.contains("currentColor"));
    }

    #[test]
    fn an_empty_chart_still_draws_its_axes() {
        let svg = UsageChart { x_name: "Month".into(), ..UsageChart::default() }.svg(400, 200).expect("drawn");
        assert!(svg.contains("Credits used"));
    }
}
