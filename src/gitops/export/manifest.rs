//! The exported manifests: YAML text with its comments, grouped by the
//! resource they belong to (a notification with the Secret of its URL).

use k8s_openapi::api::core::v1::Secret;
use kube::api::ObjectMeta;
use serde_json::{Map, Value};

use super::super::manifests::{Document, parse};
use super::super::resources::Kind;

/// What a Secret left to fill in holds for validation instead of its values.
const STAND_IN: &str = "placeholder";

/// One manifest to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Its kind, e.g. `QuayRepository` or `Secret`.
    pub kind: &'static str,
    /// `metadata.name`.
    pub name: String,
    /// Comment lines written above the document.
    pub comment: Vec<String>,
    /// The document, as YAML.
    pub yaml: String,
    /// The keys a Secret needs and does not hold: the person adopting fills
    /// them in (export never writes a secret value).
    pub to_fill: Vec<&'static str>,
}

impl Manifest {
    /// A manifest of `object`, with comment lines.
    pub fn new<T: serde::Serialize>(
        kind: &'static str,
        name: &str,
        object: &T,
        comment: Vec<String>,
    ) -> Self {
        Manifest {
            kind,
            name: name.to_owned(),
            comment,
            yaml: serde_norway::to_string(object).expect("manifests serialize to YAML"),
            to_fill: Vec::new(),
        }
    }

    /// A Secret without values whose comment says which keys to add, with
    /// what (e.g. `("url", "the webhook URL")`).
    pub fn secret_to_fill(meta: ObjectMeta, why: &[String], keys: &[(&'static str, &str)]) -> Self {
        let name = meta.name.clone().unwrap_or_default();
        let secret = Secret {
            metadata: meta,
            type_: Some("Opaque".to_owned()),
            ..Secret::default()
        };
        let mut comment = why.to_vec();
        comment.push(
            "Add the values below (or replace this Secret with a SealedSecret or ExternalSecret"
                .to_owned(),
        );
        comment.push(
            "of the same name); until then plan, apply and the operator refuse what uses it:"
                .to_owned(),
        );
        comment.push("stringData:".to_owned());
        for (key, what) in keys {
            let placeholder = format!("REPLACE-WITH-{}", what.to_uppercase().replace(' ', "-"));
            comment.push(format!("  {key}: {placeholder}"));
        }
        Manifest {
            to_fill: keys.iter().map(|(k, _)| *k).collect(),
            ..Manifest::new("Secret", &name, &secret, comment)
        }
    }

    /// The file it is written to: `<kind>-<name>.yaml`, kind in lower case.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind.to_ascii_lowercase(), self.name)
    }

    /// The document with its comment lines.
    pub fn text(&self) -> String {
        let mut text: String = self
            .comment
            .iter()
            .map(|line| format!("# {line}\n"))
            .collect();
        text.push_str(&self.yaml);
        text
    }

    /// The document as `plan` reads it, a Secret's missing values stood in
    /// for, so that everything else can be validated.
    pub fn stand_in(&self) -> Vec<Document> {
        let mut documents = parse(&self.file_name(), &self.text()).expect("export writes YAML");
        if !self.to_fill.is_empty()
            && let Some(Value::Object(object)) = documents.first_mut().map(|d| &mut d.value)
        {
            let values: Map<String, Value> = self
                .to_fill
                .iter()
                .map(|k| ((*k).to_owned(), Value::from(STAND_IN)))
                .collect();
            object.insert("stringData".to_owned(), Value::Object(values));
        }
        documents
    }
}

/// A resource with the Secrets it needs (listed first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The resource's kind.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// The Secrets, then the resource.
    pub manifests: Vec<Manifest>,
}

impl Group {
    /// A resource without Secrets.
    pub fn of(kind: Kind, manifest: Manifest) -> Self {
        Group {
            kind,
            name: manifest.name.clone(),
            manifests: vec![manifest],
        }
    }

    /// A resource with the Secret it needs.
    pub fn with_secret(kind: Kind, manifest: Manifest, secret: Option<Manifest>) -> Self {
        let mut group = Group::of(kind, manifest);
        if let Some(secret) = secret {
            group.manifests.insert(0, secret);
        }
        group
    }
}
