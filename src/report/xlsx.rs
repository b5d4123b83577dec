//! The report as an Excel workbook: one sheet per part ([`super::tables::sheets`]), each
//! with a bold header row, an autofilter over all its rows, the header frozen, and column
//! widths set. Money is written as numbers in yuan, shares as percentages, so inspectors can
//! filter, sort and sum.

use super::data::ReportData;
use super::labels::L;
use super::tables::{Cell, Sheet, PARTS};
use super::ReportError;
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, Worksheet, XlsxError};
use std::path::Path;

/// Excel's limits: rows per sheet and characters per cell.
const MAX_ROWS: usize = 1_048_576;
const MAX_CELL_CHARS: usize = 32_767;

struct Formats {
    header: Format,
    money: Format,
    num: Format,
    pct: Format,
}

/// Text as the report writes it into a cell: characters XML forbids replaced
/// ([`crate::output::xml_text`]), at most the 32,767 characters a cell holds.
pub fn cell_text(s: &str) -> String {
    let s = crate::output::xml_text(s);
    if s.chars().count() <= MAX_CELL_CHARS {
        s.into_owned()
    } else {
        let mut t: String = s.chars().take(MAX_CELL_CHARS - 1).collect();
        t.push('…');
        t
    }
}

fn write_sheet(
    ws: &mut Worksheet,
    sheet: &Sheet,
    f: &Formats,
    lang: crate::cases::Lang,
) -> Result<(), XlsxError> {
    ws.set_name(&sheet.title)?;
    for (c, col) in sheet.columns.iter().enumerate() {
        let c = c as u16;
        ws.write_string_with_format(0, c, cell_text(&col.label), &f.header)?;
        ws.set_column_width(c, col.width)?;
    }
    let last_col = sheet.columns.len().saturating_sub(1) as u16;
    let mut rows = sheet.rows.as_slice();
    // One row is kept for the header, one for the note that rows were left out.
    let truncated = rows.len() > MAX_ROWS - 2;
    if truncated {
        rows = &rows[..MAX_ROWS - 2];
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => {
                    ws.write_string(r, c, cell_text(s))?;
                }
                Cell::List(items) => {
                    ws.write_string(r, c, cell_text(&items.join("; ")))?;
                }
                Cell::Int(i) => {
                    ws.write_number(r, c, *i as f64)?;
                }
                Cell::Money(fen) => {
                    ws.write_number_with_format(r, c, *fen as f64 / 100.0, &f.money)?;
                }
                Cell::Num(x) => {
                    ws.write_number_with_format(r, c, *x, &f.num)?;
                }
                Cell::Pct(p) => {
                    ws.write_number_with_format(r, c, *p / 100.0, &f.pct)?;
                }
                Cell::Empty => {}
            }
        }
    }
    let mut last_row = rows.len() as u32;
    if !sheet.available {
        last_row += 1;
        ws.write_string(last_row, 0, L::NoData.get(lang))?;
    } else if truncated {
        last_row += 1;
        ws.write_string(
            last_row,
            0,
            format!(
                "{} {} {} {}",
                L::ShowingFirst.get(lang),
                rows.len(),
                L::RowsOf.get(lang),
                sheet.rows.len()
            ),
        )?;
    }
    ws.autofilter(0, 0, last_row, last_col)?;
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Writes the workbook of a report.
pub fn write(data: &ReportData, path: &Path) -> Result<(), ReportError> {
    let wrap = |source: XlsxError| ReportError::Xlsx {
        path: path.to_path_buf(),
        source,
    };
    let formats = Formats {
        header: Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0xDDE6F0))
            .set_border_bottom(FormatBorder::Thin),
        money: Format::new().set_num_format("#,##0.00"),
        num: Format::new().set_num_format("0.00"),
        pct: Format::new().set_num_format("0.0%"),
    };
    let mut wb = Workbook::new();
    // Constant-memory sheets go to a temporary file row by row, and each part is built,
    // written and dropped in turn: a 2 M-claim sweep's 300,000 cases never sit in memory
    // twice (as cells, then as the writer's rows).
    for part in PARTS {
        let sheet = part(data);
        let ws = wb.add_worksheet_with_constant_memory();
        write_sheet(ws, &sheet, &formats, data.lang).map_err(wrap)?;
    }
    wb.save(path).map_err(wrap)
}
