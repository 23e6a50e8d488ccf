//! A completion certificate as a one-page PDF (A4 landscape): the learner's name, the course, the
//! completion date and the score. Written with pdf-writer and the standard Helvetica fonts, which
//! every PDF reader has, so no font file ships with Cairn; their WinAnsi encoding covers Latin
//! scripts, and any other character is shown as `?`.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// What a certificate states.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub learner: String,
    pub course: String,
    /// The completion date as the learner reads it (their time zone).
    pub completed: String,
    /// `85 %`, or None when the course gave no score.
    pub score: Option<String>,
    /// The course IRI, in small print.
    pub course_id: String,
}

/// Text in WinAnsiEncoding: ASCII and Latin-1 as themselves, a few common signs mapped, the rest `?`.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        })
        .collect()
}

/// The PDF's bytes.
pub fn render(c: &Certificate) -> Vec<u8> {
    let (catalog, tree, page, regular, bold, content_id, info) =
        (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6), Ref::new(7));
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    let (w, h) = (842.0, 595.0);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, w, h)).parent(tree).contents(content_id);
    p.resources().fonts().pair(Name(b"F1"), regular).pair(Name(b"F2"), bold);
    p.finish();
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr(&format!("Certificate of completion: {}", c.course)))
        .creator(TextStr("Cairn"));

    let mut content = Content::new();
    // A frame.
    content.set_stroke_rgb(0.16, 0.33, 0.55).set_line_width(3.0);
    content.rect(36.0, 36.0, w - 72.0, h - 72.0).stroke();
    content.set_line_width(0.8).rect(46.0, 46.0, w - 92.0, h - 92.0).stroke();
    let mut text = |font: &[u8], size: f32, y: f32, s: &str, rgb: (f32, f32, f32)| {
        let bytes = win_ansi(s);
        content.begin_text();
        content.set_fill_rgb(rgb.0, rgb.1, rgb.2);
        content.set_font(Name(font), size);
        content.next_line(90.0, y);
        content.show(Str(&bytes));
        content.end_text();
    };
    let ink = (0.1, 0.1, 0.12);
    let blue = (0.16, 0.33, 0.55);
    text(b"F2", 30.0, 470.0, "Certificate of completion", blue);
    text(b"F1", 14.0, 420.0, "This certifies that", ink);
    text(b"F2", 26.0, 385.0, &c.learner, ink);
    text(b"F1", 14.0, 345.0, "completed the course", ink);
    text(b"F2", 22.0, 312.0, &c.course, ink);
    text(b"F1", 14.0, 260.0, &format!("Completed on {}", c.completed), ink);
    if let Some(s) = &c.score {
        text(b"F1", 14.0, 238.0, &format!("Score: {s}"), ink);
    }
    text(b"F1", 9.0, 80.0, &format!("Course: {}   -   issued by Cairn from the learning records", c.course_id), blue);
    pdf.stream(content_id, &content.finish());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_naming_learner_course_date_and_score() {
        let bytes = render(&Certificate {
            learner: "Zoë Ñúñez".into(),
            course: "Fire safety (2026)".into(),
            completed: "Tue 1 Dec 2026".into(),
            score: Some("85 %".into()),
            course_id: "https://example.com/c".into(),
        });
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("Fire safety \\(2026\\)") || text.contains("Fire safety (2026)"), "{text}");
        assert!(bytes.windows(4).any(|w| w == b"85 %"));
        // Latin-1 letters are kept as WinAnsi bytes (ë = 0xEB), written as a literal or hex string.
        let hex = text.to_ascii_uppercase();
        assert!(bytes.windows(3).any(|w| w == [b'Z', b'o', 0xEB]) || hex.contains("5A6FEB"), "{text}");
        assert_eq!(win_ansi("Łukasz"), b"?ukasz");
    }
}
