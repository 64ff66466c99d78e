//! Methods by name with their options, as written in a training configuration, e.g.
//! `method: scratch`, `method: {fm: {beta: 0.5, pairs: one-to-one}}`,
//! `method: {l2t-ww: {T: 2, lambda: relu6}}`; and building the method for given networks.

use super::attention::{AtFormula, Attention};
use super::fm::Fm;
use super::l2t::{L2t, L2tSettings, MetaOptimizerKind};
use super::l2tww::{L2twwConfig, MetaGradient};
use super::lwf::Lwf;
use super::meta_networks::LambdaActivation;
use super::plain::{Finetune, Scratch};
use super::schemes::PairScheme;
use super::BuildContext;
use crate::error::{Error, Result};
use crate::transfer::engine::Method;
use crate::yaml::bounds::{at_least, finite, non_negative, positive, Checked};
use crate::yaml::FieldError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Options of `lwf`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct LwfOptions {
    /// Softmax temperature of both outputs.
    pub temperature: f64,
    /// Weight of the old-task term.
    pub alpha: f64,
}

impl Default for LwfOptions {
    fn default() -> Self {
        LwfOptions {
            temperature: 2.0,
            alpha: 1.0,
        }
    }
}

impl LwfOptions {
    /// Checks the numbers: a temperature > 0, a weight ≥ 0, both finite.
    pub fn check(&self) -> Checked {
        positive("temperature", self.temperature)?;
        non_negative("alpha", self.alpha)
    }
}

/// Options of `at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct AtOptions {
    /// Weight β (the authors use 1000).
    pub beta: f64,
    /// `code` or `paper`.
    pub formula: AtFormula,
    /// Pair scheme.
    pub pairs: PairScheme,
}

impl Default for AtOptions {
    fn default() -> Self {
        AtOptions {
            beta: 1000.0,
            formula: AtFormula::Code,
            pairs: PairScheme::OneToOne,
        }
    }
}

impl AtOptions {
    /// Checks the weight: finite, ≥ 0 (0 trains as scratch does).
    pub fn check(&self) -> Checked {
        non_negative("beta", self.beta)
    }
}

/// Options of `fm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct FmOptions {
    /// Weight β.
    pub beta: f64,
    /// Pair scheme.
    pub pairs: PairScheme,
}

impl Default for FmOptions {
    fn default() -> Self {
        FmOptions {
            beta: 0.5,
            pairs: PairScheme::OneToOne,
        }
    }
}

impl FmOptions {
    /// Checks the weight: finite, ≥ 0 (0 trains as scratch does).
    pub fn check(&self) -> Checked {
        non_negative("beta", self.beta)
    }
}

/// Options of `l2t-w` and `l2t-ww` (the official defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct L2tOptions {
    /// Weight β of the matching term.
    pub beta: f64,
    /// Pair scheme (default: one-to-one for l2t-w, all-to-all for l2t-ww).
    pub pairs: Option<PairScheme>,
    /// Look-ahead steps on the matching loss alone.
    #[serde(rename = "T")]
    pub lookahead: usize,
    /// Meta learning rate.
    pub meta_lr: f64,
    /// Meta weight decay.
    pub meta_wd: f64,
    /// Meta optimizer.
    pub meta_optimizer: MetaOptimizerKind,
    /// `exact` (the official second-order meta-gradient) or `first-order` (the look-ahead's
    /// Hessian-vector products left out; cheaper, approximate).
    pub meta_gradient: MetaGradient,
    /// Take the meta step on every k-th batch only (the official `--meta-period`); the other
    /// batches take the live CE + WFM step with the current λ and w. 1: every batch.
    pub meta_every: usize,
    /// Keep the meta-networks at their initial values: no look-ahead and no meta step, so the
    /// run costs what feature matching costs. The control that separates what *learning* λ and
    /// w adds from what the same fixed, randomly initialised weights do.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub frozen: bool,
    /// λ's activation (l2t-ww only).
    pub lambda: Option<LambdaActivation>,
    /// λ's bias initialisation (l2t-ww only).
    pub lambda_init: f64,
    /// Standardise the meta-networks' inputs per channel with these `channels.parquet` files of
    /// `l2tww stats`, one per source in source order (one path for one source). Empty (the
    /// default) keeps the official inputs, GAP(S_m), bit for bit.
    #[serde(
        deserialize_with = "super::standardize::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub standardize: Vec<PathBuf>,
}

impl Default for L2tOptions {
    fn default() -> Self {
        L2tOptions {
            beta: 0.5,
            pairs: None,
            lookahead: 2,
            meta_lr: 1e-4,
            meta_wd: 1e-4,
            meta_optimizer: MetaOptimizerKind::Adam,
            meta_gradient: MetaGradient::Exact,
            meta_every: 1,
            frozen: false,
            lambda: None,
            lambda_init: 1.0,
            standardize: Vec::new(),
        }
    }
}

impl L2tOptions {
    /// Checks the numbers and their relations, for `l2t-ww` when `ww` (else `l2t-w`): β > 0
    /// (with β = 0 the look-ahead moves nothing and the meta-gradient is zero), at least one
    /// look-ahead step `T` unless `frozen` (T = 0 has no look-ahead: the meta-gradient is
    /// identically zero), a meta learning rate > 0, a meta weight decay ≥ 0, a meta step every
    /// k ≥ 1 batches, a finite λ bias; `lambda` only for l2t-ww, which learns λ.
    pub fn check(&self, ww: bool) -> Checked {
        positive("beta", self.beta)?;
        if !self.frozen && self.lookahead == 0 {
            return Err(FieldError::at(
                &["T"],
                "must be at least 1 (allowed: 1, 2, …), got 0: without a look-ahead step the \
                 meta-gradient is identically zero (for a run whose meta-networks never learn, \
                 write `frozen: true`)",
            ));
        }
        positive("meta-lr", self.meta_lr)?;
        non_negative("meta-wd", self.meta_wd)?;
        at_least("meta-every", self.meta_every, 1)?;
        finite("lambda-init", self.lambda_init)?;
        if !ww && self.lambda.is_some() {
            return Err(FieldError::at(
                &["lambda"],
                "l2t-w learns no λ: remove `lambda` or use l2t-ww",
            ));
        }
        Ok(())
    }
}

/// A transfer method with its options. Written as its name alone (`scratch`, or `fm` with the
/// default options) or as a one-key map from the name to its options (`{fm: {beta: 1.0}}`).
#[derive(Debug, Clone, PartialEq)]
pub enum MethodSpec {
    /// The target alone.
    Scratch,
    /// The target initialised from the source.
    Finetune,
    /// Learning without Forgetting.
    Lwf(LwfOptions),
    /// Attention transfer.
    At(AtOptions),
    /// Unweighted feature matching.
    Fm(FmOptions),
    /// L2T with learned channel weights on hand-chosen pairs.
    L2tW(L2tOptions),
    /// L2T with learned channel and pair weights over all pairs.
    L2tWw(L2tOptions),
}

/// Every method name, in the order the README lists them.
pub const METHOD_NAMES: &[&str] = &["scratch", "finetune", "lwf", "at", "fm", "l2t-w", "l2t-ww"];

impl MethodSpec {
    /// The method `name` with its default options.
    pub fn with_defaults(name: &str) -> Option<Self> {
        Some(match name {
            "scratch" => MethodSpec::Scratch,
            "finetune" => MethodSpec::Finetune,
            "lwf" => MethodSpec::Lwf(Default::default()),
            "at" => MethodSpec::At(Default::default()),
            "fm" => MethodSpec::Fm(Default::default()),
            "l2t-w" => MethodSpec::L2tW(Default::default()),
            "l2t-ww" => MethodSpec::L2tWw(Default::default()),
            _ => return None,
        })
    }

    /// The method's name.
    pub fn name(&self) -> &'static str {
        match self {
            MethodSpec::Scratch => "scratch",
            MethodSpec::Finetune => "finetune",
            MethodSpec::Lwf(_) => "lwf",
            MethodSpec::At(_) => "at",
            MethodSpec::Fm(_) => "fm",
            MethodSpec::L2tW(_) => "l2t-w",
            MethodSpec::L2tWw(_) => "l2t-ww",
        }
    }

    /// Whether the method needs source networks.
    pub fn needs_source(&self) -> bool {
        !matches!(self, MethodSpec::Scratch)
    }

    /// Checks the options' numbers and relations; the error's path starts with the method's
    /// name (`l2t-ww.meta-lr`), as the options are written under it.
    pub fn check(&self) -> Checked {
        let checked = match self {
            MethodSpec::Scratch | MethodSpec::Finetune => Ok(()),
            MethodSpec::Lwf(o) => o.check(),
            MethodSpec::At(o) => o.check(),
            MethodSpec::Fm(o) => o.check(),
            MethodSpec::L2tW(o) => o.check(false),
            MethodSpec::L2tWw(o) => o.check(true),
        };
        checked.map_err(|e| e.within(&[self.name()]))
    }

    /// Makes the relative paths among the options (`standardize`) relative to `base` instead.
    pub fn resolve_paths(&mut self, base: &Path) {
        for p in self.paths_mut() {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// The files among the options (`standardize`), for callers that resolve or hash them.
    pub fn paths_mut(&mut self) -> Vec<&mut PathBuf> {
        match self {
            MethodSpec::L2tW(o) | MethodSpec::L2tWw(o) => o.standardize.iter_mut().collect(),
            _ => Vec::new(),
        }
    }

    /// Builds the method for the networks in `ctx` (its options checked first).
    pub fn build(&self, ctx: &BuildContext) -> Result<Box<dyn Method>> {
        self.check()
            .map_err(|e| Error::Invalid(format!("method: {}", e.shown())))?;
        if self.needs_source() && ctx.sources.is_empty() {
            return Err(Error::Invalid(format!(
                "method `{}` needs at least one source network",
                self.name()
            )));
        }
        Ok(match self {
            MethodSpec::Scratch => Box::new(Scratch),
            MethodSpec::Finetune => Box::new(Finetune),
            MethodSpec::Lwf(o) => Box::new(Lwf::new(ctx, o.temperature, o.alpha)?),
            MethodSpec::At(o) => Box::new(Attention::new(ctx, &o.pairs, o.beta, o.formula)?),
            MethodSpec::Fm(o) => Box::new(Fm::new(ctx, &o.pairs, o.beta)?),
            MethodSpec::L2tW(_) | MethodSpec::L2tWw(_) => Box::new(self.build_l2t(ctx)?),
        })
    }

    /// Builds `l2t-w` or `l2t-ww` for the networks in `ctx` as itself, not as a [`Method`]
    /// (for callers that inspect its meta steps: the conformance cases, the fidelity bench); an
    /// error for any other method. [`MethodSpec::build`] builds L2T through it.
    pub fn build_l2t(&self, ctx: &BuildContext) -> Result<L2t> {
        let (o, ww) = match self {
            MethodSpec::L2tW(o) => (o, false),
            MethodSpec::L2tWw(o) => (o, true),
            _ => {
                return Err(Error::Invalid(format!(
                    "method `{}` is not l2t-w or l2t-ww",
                    self.name()
                )))
            }
        };
        if !ww && o.lambda.is_some() {
            return Err(Error::Invalid(
                "l2t-w learns no λ: remove `lambda` or use l2t-ww".into(),
            ));
        }
        let default_pairs = if ww {
            PairScheme::AllToAll
        } else {
            PairScheme::OneToOne
        };
        if o.meta_every == 0 {
            return Err(Error::Invalid(
                "`meta-every` must be at least 1 (1: a meta step on every batch)".into(),
            ));
        }
        let settings = L2tSettings {
            cfg: L2twwConfig {
                beta: o.beta,
                lookahead: o.lookahead,
                meta_gradient: o.meta_gradient,
            },
            meta_every: o.meta_every,
            frozen: o.frozen,
            lambda: ww.then(|| o.lambda.unwrap_or(LambdaActivation::Relu6)),
            lambda_init: o.lambda_init,
            meta_lr: o.meta_lr,
            meta_wd: o.meta_wd,
            optimizer: o.meta_optimizer,
            momentum: ctx.momentum,
            standardize: o.standardize.clone(),
        };
        L2t::new(ctx, o.pairs.as_ref().unwrap_or(&default_pairs), settings)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_from_a_name_or_a_map_and_round_trip() {
        let a: MethodSpec = serde_yaml_ng::from_str("fm").unwrap();
        assert_eq!(a, MethodSpec::Fm(FmOptions::default()));
        let b: MethodSpec = serde_yaml_ng::from_str("l2t-ww: {T: 3, lambda: relu-avg}").unwrap();
        let MethodSpec::L2tWw(o) = &b else {
            panic!("{b:?}")
        };
        assert_eq!(
            (o.lookahead, o.lambda),
            (3, Some(LambdaActivation::ReluAvg))
        );
        let c: MethodSpec = serde_yaml_ng::from_str("scratch:").unwrap();
        assert_eq!(c, MethodSpec::Scratch);
        let text = serde_yaml_ng::to_string(&b).unwrap();
        assert_eq!(serde_yaml_ng::from_str::<MethodSpec>(&text).unwrap(), b);
        assert!(!text.contains("standardize"), "{text}");
    }

    #[test]
    fn standardize_takes_one_path_or_a_list_relative_to_the_configuration() {
        let mut a: MethodSpec =
            serde_yaml_ng::from_str("l2t-ww: {standardize: s/channels.parquet}").unwrap();
        a.resolve_paths(Path::new("/runs"));
        let MethodSpec::L2tWw(o) = &a else {
            panic!("{a:?}")
        };
        assert_eq!(o.standardize, [PathBuf::from("/runs/s/channels.parquet")]);
        let b: MethodSpec =
            serde_yaml_ng::from_str("l2t-w: {standardize: [/a.parquet, /b.parquet]}").unwrap();
        let MethodSpec::L2tW(o) = &b else {
            panic!("{b:?}")
        };
        assert_eq!(o.standardize.len(), 2);
        let text = serde_yaml_ng::to_string(&b).unwrap();
        assert_eq!(serde_yaml_ng::from_str::<MethodSpec>(&text).unwrap(), b);
    }

    #[test]
    fn every_number_of_every_method_is_checked_with_its_path() {
        let bad = |yaml: &str| {
            let m: MethodSpec = serde_yaml_ng::from_str(yaml).unwrap();
            m.check().map_err(|e| e.path.join("."))
        };
        for ok in [
            "scratch",
            "lwf",
            "at",
            "fm",
            "l2t-w",
            "l2t-ww",
            "l2t-ww: {frozen: true, T: 0}",
        ] {
            assert_eq!(bad(ok), Ok(()), "{ok}");
        }
        let cases = [
            ("lwf: {temperature: 0}", "lwf.temperature"),
            ("lwf: {alpha: -1}", "lwf.alpha"),
            ("at: {beta: -1}", "at.beta"),
            ("fm: {beta: .nan}", "fm.beta"),
            ("l2t-ww: {beta: 0}", "l2t-ww.beta"),
            ("l2t-ww: {T: 0}", "l2t-ww.T"),
            ("l2t-ww: {meta-lr: -0.1}", "l2t-ww.meta-lr"),
            ("l2t-w: {meta-wd: -1}", "l2t-w.meta-wd"),
            ("l2t-ww: {meta-every: 0}", "l2t-ww.meta-every"),
            ("l2t-ww: {lambda-init: .inf}", "l2t-ww.lambda-init"),
            ("l2t-w: {lambda: relu6}", "l2t-w.lambda"),
        ];
        for (yaml, path) in cases {
            assert_eq!(bad(yaml), Err(path.to_string()), "{yaml}");
        }
    }

    #[test]
    fn unknown_methods_and_options_are_named() {
        let e = serde_yaml_ng::from_str::<MethodSpec>("l2t-wx")
            .unwrap_err()
            .to_string();
        assert!(e.contains("l2t-wx") && e.contains("l2t-ww"), "{e}");
        let e = serde_yaml_ng::from_str::<MethodSpec>("at: {formula: slides}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("slides"), "{e}");
    }
}
