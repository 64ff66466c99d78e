//! The options of `l2t-w` and `l2t-ww` as written under the method's name
//! (`method: {l2t-ww: {T: 2, meta-lr: 1e-4}}`), declared once: the training configuration
//! reads them, keys are made of them as written, and [`L2t`](super::l2t::L2t) is built from
//! this struct itself. What differs between the two variants (the default pair scheme, λ's
//! activation) is derived here rather than copied into a second settings struct.

use super::l2tww::MetaGradient;
use super::meta_networks::LambdaActivation;
use super::meta_optimizer::MetaOptimizerKind;
use super::schemes::PairScheme;
use crate::yaml::bounds::{at_least, finite, non_negative, positive, Checked};
use crate::yaml::FieldError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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

    /// The pair scheme: as written, else one-to-one for l2t-w and all-to-all for l2t-ww.
    pub fn pair_scheme(&self, ww: bool) -> PairScheme {
        self.pairs.clone().unwrap_or(if ww {
            PairScheme::AllToAll
        } else {
            PairScheme::OneToOne
        })
    }

    /// λ's activation: as written (`relu6` by default) for l2t-ww; None for l2t-w, which learns
    /// no λ (λ = 1).
    pub fn lambda_activation(&self, ww: bool) -> Option<LambdaActivation> {
        ww.then(|| self.lambda.unwrap_or(LambdaActivation::Relu6))
    }
}
