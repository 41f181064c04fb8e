//! The overview's charts, drawn as SVG by plotters from the same [`Overview`] as the tables
//! beneath them. The text is SVG text: the browser draws it, no font files are needed.

use app::console::{Chart, Overview, action_label};
use app::domain::ConsentAction;
use plotters::prelude::*;

const WIDTH: u32 = 860;
const HEIGHT: u32 = 320;
/// Distinguishable with the common colour-vision deficiencies (Okabe–Ito).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
];

pub type Drawn = Result<(), String>;

/// Every chart of the overview.
pub fn draw_all(overview: &Overview) -> Vec<Chart> {
    let mut charts = vec![
        chart("chart-actions", "Decisions per day, by action", |svg| {
            actions(overview, svg)
        }),
        chart(
            "chart-grants",
            "Share of decisions granting each category, per day",
            |svg| grants(overview, svg),
        ),
    ];
    for (index, table) in overview.dimensions.iter().enumerate() {
        let title = format!("Decisions by {}", table.title.to_lowercase());
        let bars: Vec<(String, i64)> = table
            .values
            .iter()
            .take(12)
            .map(|value| (value.value.clone(), value.decisions))
            .collect();
        if bars.is_empty() {
            continue;
        }
        charts.push(chart(&format!("chart-dimension-{index}"), &title, |svg| {
            bar_chart(&bars, svg)
        }));
    }
    charts
}

/// A chart drawn by `draw`, titled for screen readers; empty if it could not be drawn.
pub fn chart(id: &str, title: &str, draw: impl FnOnce(&mut String) -> Drawn) -> Chart {
    let mut svg = String::new();
    if let Err(error) = draw(&mut svg) {
        // A chart that cannot be drawn leaves its table, which has the same numbers.
        tracing::warn!(chart = id, %error, "chart not drawn");
        svg.clear();
    }
    Chart {
        id: id.to_owned(),
        title: title.to_owned(),
        svg: accessible(&svg, title),
    }
}

/// Gives the SVG a title (read as its name) and marks its drawing as decoration for screen
/// readers, which read the table instead.
fn accessible(svg: &str, title: &str) -> String {
    let Some(end_of_open_tag) = svg.find('>') else {
        return String::new();
    };
    let escaped = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "{} aria-hidden=\"true\" focusable=\"false\"><title>{escaped}</title>{}",
        &svg[..end_of_open_tag],
        &svg[end_of_open_tag + 1..]
    )
}

fn actions(overview: &Overview, svg: &mut String) -> Drawn {
    let series: Vec<(String, Vec<Option<f64>>)> = ConsentAction::ALL
        .iter()
        .filter_map(|action| {
            let per_day = overview.by_action.get(action.as_str())?;
            let points = per_day.iter().map(|count| Some(*count as f64)).collect();
            Some((action_label(action.as_str()).to_owned(), points))
        })
        .collect();
    let days: Vec<String> = overview.days.iter().map(|day| day_label(day)).collect();
    line_chart(&days, "Day (UTC)", &series, Scale::Count("Decisions"), svg)
}

fn grants(overview: &Overview, svg: &mut String) -> Drawn {
    let series: Vec<(String, Vec<Option<f64>>)> = overview
        .categories
        .iter()
        .filter_map(|category| {
            let shares = overview.grant_share.get(category)?;
            Some((category.clone(), shares.clone()))
        })
        .collect();
    let days: Vec<String> = overview.days.iter().map(|day| day_label(day)).collect();
    line_chart(
        &days,
        "Day (UTC)",
        &series,
        Scale::Percent("Decisions granting"),
        svg,
    )
}

/// "11-27": the year is in the table.
pub fn day_label(day: &str) -> String {
    day.get(5..).unwrap_or(day).to_owned()
}

/// What the y axis counts.
#[derive(Debug, Clone, Copy)]
pub enum Scale {
    Count(&'static str),
    Percent(&'static str),
}

/// Lines over labelled points (days, times), one per series, with a legend. A point without a
/// value (a day without decisions has no share) is skipped rather than drawn as 0.
pub fn line_chart(
    labels: &[String],
    x_desc: &str,
    series: &[(String, Vec<Option<f64>>)],
    scale: Scale,
    svg: &mut String,
) -> Drawn {
    let (y_desc, top) = match scale {
        Scale::Percent(desc) => (desc, 100.0),
        Scale::Count(desc) => {
            let highest = series
                .iter()
                .flat_map(|(_, points)| points.iter().flatten().copied())
                .fold(0.0_f64, f64::max)
                .max(1.0);
            (desc, (highest * 1.1).ceil())
        }
    };
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0..labels.len().saturating_sub(1).max(1), 0.0..top)
        .map_err(|e| e.to_string())?;
    let percent = matches!(scale, Scale::Percent(_));
    // Counts are whole: below ten, a label per unit, not the same number twice between them.
    let y_labels = if percent {
        10
    } else {
        (top as usize + 1).min(10)
    };
    chart
        .configure_mesh()
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        // Only the labelled lines: a fine grid between them is noise at this size.
        .light_line_style(TRANSPARENT)
        .x_labels(10)
        .y_labels(y_labels)
        .x_label_formatter(&|index| labels.get(*index).cloned().unwrap_or_default())
        .y_label_formatter(&|value| {
            if percent {
                format!("{value:.0} %")
            } else {
                format!("{value:.0}")
            }
        })
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .map_err(|e| e.to_string())?;
    for (position, (name, points)) in series.iter().enumerate() {
        let color = PALETTE[position % PALETTE.len()];
        let points: Vec<(usize, f64)> = points
            .iter()
            .enumerate()
            .filter_map(|(index, value)| value.map(|value| (index, value)))
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

fn bar_chart(bars: &[(String, i64)], svg: &mut String) -> Drawn {
    let highest = bars
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(0)
        .max(1);
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(56)
        .build_cartesian_2d(
            (0..bars.len()).into_segmented(),
            0..highest + highest / 10 + 1,
        )
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        // Only the labelled lines: a fine grid between them is noise at this size.
        .light_line_style(TRANSPARENT)
        .disable_x_mesh()
        .x_labels(bars.len())
        .x_label_formatter(&|segment| match segment {
            SegmentValue::CenterOf(index) => bars
                .get(*index)
                .map(|(label, _)| label.clone())
                .unwrap_or_default(),
            _ => String::new(),
        })
        .y_desc("Decisions")
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(bars.iter().enumerate().map(|(index, (_, count))| {
            Rectangle::new(
                [
                    (SegmentValue::Exact(index), 0),
                    (SegmentValue::Exact(index + 1), *count),
                ],
                PALETTE[0].filled(),
            )
        }))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn sample() -> Overview {
        Overview {
            days: vec!["2026-11-26".to_owned(), "2026-11-27".to_owned()],
            total: 5,
            decisions_per_day: vec![3, 2],
            by_action: ConsentAction::ALL
                .iter()
                .map(|action| (action.as_str().to_owned(), vec![1, 0]))
                .collect(),
            grant_share: BTreeMap::from([("analytics".to_owned(), vec![Some(50.0), None])]),
            categories: vec!["analytics".to_owned()],
            dimensions: vec![app::console::DimensionTable {
                title: "Language".to_owned(),
                values: vec![app::console::DimensionValue {
                    value: "ja".to_owned(),
                    decisions: 5,
                    by_action: BTreeMap::new(),
                    granted: BTreeMap::new(),
                }],
            }],
            charts: Vec::new(),
        }
    }

    #[test]
    fn charts_are_titled_svg_with_labels_and_legends() {
        let charts = draw_all(&sample());
        let ids: Vec<&str> = charts.iter().map(|chart| chart.id.as_str()).collect();
        assert_eq!(ids, ["chart-actions", "chart-grants", "chart-dimension-0"]);
        let actions = &charts[0].svg;
        assert!(actions.starts_with("<svg"), "{actions}");
        assert!(actions.contains("<title>Decisions per day, by action</title>"));
        assert!(actions.contains("aria-hidden=\"true\""));
        for label in [
            "Accept all",
            "Reject all",
            "GPC",
            "Day (UTC)",
            "Decisions",
            "11-27",
        ] {
            assert!(actions.contains(label), "{label} missing");
        }
        assert!(charts[1].svg.contains("analytics"));
        assert!(charts[1].svg.contains("100 %"));
        assert!(charts[2].svg.contains("\nja\n</text>"));
    }

    #[test]
    fn labels_from_stored_values_are_text_not_markup() {
        let mut overview = sample();
        overview.dimensions[0].values[0].value = "<script>alert(1)</script>".to_owned();
        let charts = draw_all(&overview);
        let bars = &charts[2].svg;
        assert!(!bars.contains("<script>"), "{bars}");
        assert!(bars.contains("&lt;script&gt;"));
    }

    #[test]
    fn titles_are_escaped() {
        assert_eq!(
            accessible("<svg a=\"1\"><g/></svg>", "a<b&c"),
            "<svg a=\"1\" aria-hidden=\"true\" focusable=\"false\"><title>a&lt;b&amp;c</title><g/></svg>"
        );
    }
}
