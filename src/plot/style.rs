//! Fonts, colours and the colour bar shared by every figure.

use plotters::coord::Shift;
use plotters::prelude::*;

/// Result of drawing onto a plotters backend.
pub type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// The bundled DejaVu Sans (assets/fonts, with its license), so figures look
/// the same on every machine, including ones without system fonts.
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub const FAMILY: &str = "sans-serif";

/// Registers the bundled font once per process.
pub fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The font is compiled in and known to be valid.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

pub fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

/// Viridis (perceptually uniform, colour-blind safe), sampled at 9 anchors
/// and interpolated linearly.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// Colour of `t` in [0, 1] (clamped).
pub fn viridis(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let pos = t * (VIRIDIS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(VIRIDIS.len() - 2);
    let f = pos - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Readable text colour on top of `viridis(t)`.
pub fn text_on(t: f64) -> RGBColor {
    if t < 0.6 {
        WHITE
    } else {
        BLACK
    }
}

/// Grey for missing values.
pub const MISSING: RGBColor = RGBColor(200, 200, 200);

/// White for values that are zero up to rounding (outside viridis, so never
/// read as the smallest value of a scale).
pub const ZERO: RGBColor = RGBColor(255, 255, 255);

/// Red for values a metric cannot take (a negative gap): outside viridis, so
/// never read as a point on the scale.
pub const IMPOSSIBLE: RGBColor = RGBColor(214, 39, 40);

/// Line colours (Okabe–Ito, colour-blind safe), cycled.
pub fn line_colour(i: usize) -> RGBColor {
    const C: [RGBColor; 8] = [
        RGBColor(0, 114, 178),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(230, 159, 0),
        RGBColor(86, 180, 233),
        RGBColor(120, 120, 120),
        RGBColor(0, 0, 0),
    ];
    C[i % C.len()]
}

/// Normalised position of `v` in `[lo, hi]`.
pub fn unit(v: f64, lo: f64, hi: f64) -> f64 {
    if hi > lo {
        (v - lo) / (hi - lo)
    } else {
        0.5
    }
}

/// Height of one entry of a colour key.
const KEY_ROW: u32 = 26;

/// The colour scale of a heatmap in its strip: the colour bar for values in
/// `range` (none when no value lies on the scale) above a key of the colours
/// that are not on the bar (`(colour, label)`: zero, impossible, missing).
pub fn colour_scale<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    range: Option<(f64, f64)>,
    label: &str,
    key: &[(RGBColor, String)],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let key_h = if key.is_empty() { 0 } else { 20 + KEY_ROW * key.len() as u32 };
    let (_, h) = area.dim_in_pixel();
    let (bar, rest) = area.split_vertically(h.saturating_sub(key_h.max(85)));
    if let Some((lo, hi)) = range {
        colour_bar(&bar, lo, hi, label)?;
    }
    for (i, (colour, text)) in key.iter().enumerate() {
        let y = 10 + (i as u32 * KEY_ROW) as i32;
        rest.draw(&Rectangle::new([(10, y), (30, y + 18)], colour.filled()))?;
        rest.draw(&Rectangle::new([(10, y), (30, y + 18)], BLACK.mix(0.5).stroke_width(1)))?;
        rest.draw_text(text, &font(13.0), (36, y + 2))?;
    }
    Ok(())
}

/// A vertical colour bar for values in `[lo, hi]` with a labelled scale.
pub fn colour_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, lo: f64, hi: f64, label: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5, lo + 0.5) };
    let mut chart = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(10)
        .margin_right(10)
        .y_label_area_size(75)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(8)
        .y_label_formatter(&|v| tick(*v))
        .label_style(font(15.0))
        .y_desc(label)
        .axis_desc_style(font(16.0))
        .draw()?;
    let steps = 200;
    chart.draw_series((0..steps).map(|i| {
        let a = lo + (hi - lo) * i as f64 / steps as f64;
        let b = lo + (hi - lo) * (i + 1) as f64 / steps as f64;
        Rectangle::new([(0.0, a), (1.0, b)], viridis(unit((a + b) / 2.0, lo, hi)).filled())
    }))?;
    Ok(())
}

/// A compact tick label: up to 3 significant digits, scientific when tiny.
pub fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        // "1e-4" rather than "1.0e-4" on log axes.
        return format!("{v:.1e}").replace(".0e", "e");
    }
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}
