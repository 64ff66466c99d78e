//! Methods by name with their options, as written in a training configuration, e.g.
//! `method: scratch`, `method: {fm: {beta: 0.5, pairs: one-to-one}}`,
//! `method: {l2t-ww: {T: 2, lambda: relu6}}` (read and written by `spec_serde`); and building
//! the method for given networks. The L2T options live in `l2t_options`.

use super::attention::{AtFormula, Attention};
use super::fm::Fm;
use super::l2t::L2t;
pub use super::l2t_options::L2tOptions;
use super::lwf::Lwf;
use super::plain::{Finetune, Scratch};
use super::schemes::PairScheme;
use super::BuildContext;
use crate::error::{Error, Result};
use crate::transfer::engine::Method;
use crate::yaml::bounds::{non_negative, positive, Checked};
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
        if o.meta_every == 0 {
            return Err(Error::Invalid(
                "`meta-every` must be at least 1 (1: a meta step on every batch)".into(),
            ));
        }
        L2t::new(ctx, o, ww)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::methods::meta_networks::LambdaActivation;

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
