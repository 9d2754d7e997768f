//! Flow logs delivered to S3 as Parquet (with the `parquet` feature): each row's columns,
//! named as the fields (`-` written `_`), read through the same [`LogFormat`] as a text line,
//! so a Parquet file and its text twin give the same records.

use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use super::format::{LogFormat, ParsedLine};
use super::interfaces::Interfaces;
use super::read::FlowTable;

/// Reads one Parquet file into `table`; what cannot be read is a located malformed line
/// (the row's number, from 1).
pub fn read(path: &Path, table: &mut FlowTable, interfaces: &Interfaces) {
    let shown = path.display().to_string();
    let reader = match std::fs::File::open(path)
        .map_err(|error| error.to_string())
        .and_then(|file| SerializedFileReader::new(file).map_err(|error| error.to_string()))
    {
        Ok(reader) => reader,
        Err(error) => {
            table.malformed(&shown, 0, format!("cannot read the Parquet file: {error}"));
            return;
        }
    };
    let names: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|column| column.name().replace('_', "-"))
        .collect();
    let format = match LogFormat::from_fields(names.clone()) {
        Ok(format) => format,
        Err(message) => {
            table.malformed(&shown, 0, format!("Parquet schema: {message}"));
            return;
        }
    };
    table.summary.tcp_flags |= format.has_tcp_flags();
    let rows = match reader.get_row_iter(None) {
        Ok(rows) => rows,
        Err(error) => {
            table.malformed(&shown, 0, format!("cannot read the Parquet rows: {error}"));
            return;
        }
    };
    let mut line = String::new();
    for (index, row) in rows.enumerate() {
        let number = index as u64 + 1;
        let row = match row {
            Ok(row) => row,
            Err(error) => {
                table.malformed(&shown, number, format!("cannot read on: {error}"));
                break;
            }
        };
        line.clear();
        for (position, (_, field)) in row.get_column_iter().enumerate() {
            if position > 0 {
                line.push(' ');
            }
            match field {
                Field::Null => line.push('-'),
                Field::Str(text) if text.is_empty() => line.push('-'),
                Field::Str(text) => line.push_str(text),
                Field::Bytes(bytes) => line.push_str(&String::from_utf8_lossy(bytes.data())),
                other => line.push_str(&other.to_string()),
            }
        }
        let mut fields = Vec::new();
        match format.parse(&line, &mut fields) {
            ParsedLine::Record(record) => {
                table.summary.records += 1;
                table.record(&record, interfaces);
            }
            ParsedLine::NoData => table.summary.nodata += 1,
            ParsedLine::Malformed(reason) => table.malformed(&shown, number, reason),
        }
    }
}
