//! How a [`MethodSpec`] is written: its name alone (`fm`, the default options) or a one-key map
//! from the name to its options (`{fm: {beta: 1.0}}`), read and written back the same way;
//! an unknown name lists the known ones.

use super::spec::{AtOptions, FmOptions, L2tOptions, LwfOptions, MethodSpec, METHOD_NAMES};
use serde::{Deserialize, Serialize};

struct SpecVisitor;

fn unknown<E: serde::de::Error>(name: &str) -> E {
    E::custom(format!(
        "unknown method `{name}`; known: {}",
        METHOD_NAMES.join(", ")
    ))
}

impl<'de> serde::de::Visitor<'de> for SpecVisitor {
    type Value = MethodSpec;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "a method name ({}) or a one-key map from it to its options",
            METHOD_NAMES.join(", ")
        )
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<MethodSpec, E> {
        MethodSpec::with_defaults(v).ok_or_else(|| unknown(v))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<MethodSpec, A::Error> {
        use serde::de::Error as _;
        let name: String = map
            .next_key()?
            .ok_or_else(|| A::Error::custom("empty method map: name a method"))?;
        let spec = match name.as_str() {
            "scratch" | "finetune" => {
                let _: Option<std::collections::BTreeMap<String, String>> = map.next_value()?;
                MethodSpec::with_defaults(&name).expect("a known name")
            }
            "lwf" => MethodSpec::Lwf(map.next_value::<Option<LwfOptions>>()?.unwrap_or_default()),
            "at" => MethodSpec::At(map.next_value::<Option<AtOptions>>()?.unwrap_or_default()),
            "fm" => MethodSpec::Fm(map.next_value::<Option<FmOptions>>()?.unwrap_or_default()),
            "l2t-w" => {
                MethodSpec::L2tW(map.next_value::<Option<L2tOptions>>()?.unwrap_or_default())
            }
            "l2t-ww" => {
                MethodSpec::L2tWw(map.next_value::<Option<L2tOptions>>()?.unwrap_or_default())
            }
            other => return Err(unknown(other)),
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(A::Error::custom(format!(
                "one method per entry: `{name}` and `{extra}` given"
            )));
        }
        Ok(spec)
    }
}

impl<'de> Deserialize<'de> for MethodSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(SpecVisitor)
    }
}

impl Serialize for MethodSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        match self {
            MethodSpec::Scratch | MethodSpec::Finetune => m.serialize_entry(
                self.name(),
                &std::collections::BTreeMap::<String, String>::new(),
            )?,
            MethodSpec::Lwf(o) => m.serialize_entry(self.name(), o)?,
            MethodSpec::At(o) => m.serialize_entry(self.name(), o)?,
            MethodSpec::Fm(o) => m.serialize_entry(self.name(), o)?,
            MethodSpec::L2tW(o) | MethodSpec::L2tWw(o) => m.serialize_entry(self.name(), o)?,
        }
        m.end()
    }
}
