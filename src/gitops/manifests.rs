//! Reading manifest files: files or folders (recursively, `*.yaml`, `*.yml`,
//! `*.json`, in sorted order), each file one or more YAML documents.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::InputError;

/// One document of a manifest file.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file, as named on the command line (or the embedded example's name).
    pub file: String,
    /// Position of the document in the file, from 1.
    pub index: usize,
    /// The document's content.
    pub value: Value,
}

/// Reads every manifest below `paths`. A file that cannot be read or parsed
/// is an error naming it; all such errors are returned.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Document>, Vec<InputError>> {
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let files = match files_below(path) {
            Ok(files) => files,
            Err(e) => {
                errors.push(InputError::file(path.display().to_string(), e));
                continue;
            }
        };
        if files.is_empty() {
            errors.push(InputError::file(
                path.display().to_string(),
                "no *.yaml, *.yml or *.json file in this folder".to_owned(),
            ));
        }
        for file in files {
            let name = file.display().to_string();
            match std::fs::read_to_string(&file) {
                Ok(text) => match parse(&name, &text) {
                    Ok(docs) => documents.extend(docs),
                    Err(e) => errors.push(e),
                },
                Err(e) => errors.push(InputError::file(name, format!("cannot read: {e}"))),
            }
        }
    }
    match errors.is_empty() {
        true => Ok(documents),
        false => Err(errors),
    }
}

/// `path` itself when it is a file; the manifest files below it, sorted, when
/// it is a folder.
fn files_below(path: &Path) -> Result<Vec<PathBuf>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files = Vec::new();
    let mut folders = vec![path.to_owned()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|e| format!("cannot read folder {}: {e}", folder.display()))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| format!("cannot read folder {}: {e}", folder.display()))?;
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if is_manifest(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Parses the YAML (or JSON) documents of one file; empty documents are left out.
pub fn parse(file: &str, text: &str) -> Result<Vec<Document>, InputError> {
    let mut documents = Vec::new();
    for (i, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        // The parser's message says where: "... at line 2 column 1".
        let value = Value::deserialize(document)
            .map_err(|e| InputError::file(file.to_owned(), format!("not valid YAML: {e}")))?;
        if !value.is_null() {
            documents.push(Document {
                file: file.to_owned(),
                index: i + 1,
                value,
            });
        }
    }
    Ok(documents)
}
