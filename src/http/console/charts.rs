//! Bar charts rendered as SVG on the server: no script, nothing to fetch, and each chart's numbers
//! are also given as a table and as one sentence for screen readers (the templates show all three).

/// One bar, in the chart's own coordinates (`HEIGHT` tall, bars standing on y = `BASE`).
pub struct Bar {
    pub label: String,
    pub short: String,
    pub count: i64,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// Whether its short label is drawn under the axis (every other one when crowded).
    pub tick: bool,
}

pub struct BarChart {
    pub bars: Vec<Bar>,
    pub width: u32,
    /// What the chart shows, in one sentence.
    pub summary: String,
}

/// Where bars stand, and the tallest bar's height.
const BASE: f64 = 120.0;
const TALLEST: f64 = 110.0;
/// Horizontal room per bar.
const SLOT: f64 = 40.0;

/// Bars for `(label, short label, count)` points, scaled to the largest count.
pub fn bar_chart(points: Vec<(String, String, i64)>, tick_every: usize, summary: String) -> BarChart {
    let max = points.iter().map(|p| p.2).max().unwrap_or(0).max(1);
    let width = (points.len() as u32) * SLOT as u32;
    let bars = points
        .into_iter()
        .enumerate()
        .map(|(i, (label, short, count))| {
            let height = TALLEST * count as f64 / max as f64;
            Bar {
                label,
                short,
                count,
                x: i as f64 * SLOT + 4.0,
                y: BASE - height,
                width: SLOT - 8.0,
                height,
                tick: i % tick_every.max(1) == 0,
            }
        })
        .collect();
    BarChart { bars, width, summary }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bars_scale_to_the_largest_count() {
        let c = super::bar_chart(vec![("a".into(), "a".into(), 2), ("b".into(), "b".into(), 4)], 2, "s".into());
        assert_eq!(c.width, 80);
        assert_eq!((c.bars[0].height, c.bars[1].height), (55.0, 110.0));
        assert_eq!(c.bars[1].y, 10.0);
        assert!(c.bars[0].tick && !c.bars[1].tick);
        let empty = super::bar_chart(vec![("a".into(), "a".into(), 0)], 1, "s".into());
        assert_eq!(empty.bars[0].height, 0.0, "no division by zero");
    }
}
