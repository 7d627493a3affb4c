//! What AI costs: the tokens each language-model call spent, recorded per tenant and use
//! case so an admin sees tokens in and out per day.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::AiUseCase;

/// The longest model id a usage record keeps (longer ids are cut at a character boundary).
pub const MAX_MODEL_ID_CHARS: usize = 200;

/// One language-model call's spend. It names no ticket and holds no text: it outlives
/// erasure and retention, and tells nothing about a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelUsage {
    /// When the model answered.
    pub at: Timestamp,
    /// What the call was for.
    pub use_case: AiUseCase,
    /// The model that answered (the provider's id; for a chain, the one of its models that
    /// did), at most [`MAX_MODEL_ID_CHARS`].
    pub model: String,
    /// Tokens sent (the prompt), as the provider counted them; 0 when it reported none.
    pub prompt_tokens: u32,
    /// Tokens received (the answer, and thoughts where the provider counts them).
    pub output_tokens: u32,
}

impl ModelUsage {
    /// A record, with `model` cut to [`MAX_MODEL_ID_CHARS`].
    pub fn new(
        at: Timestamp,
        use_case: AiUseCase,
        model: &str,
        prompt_tokens: u32,
        output_tokens: u32,
    ) -> Self {
        Self {
            at,
            use_case,
            model: model.chars().take(MAX_MODEL_ID_CHARS).collect(),
            prompt_tokens,
            output_tokens,
        }
    }
}

/// The calls of one UTC day, use case and model, added up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelUsageDay {
    /// The UTC day.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub day: Date,
    /// What the calls were for.
    pub use_case: AiUseCase,
    /// The model that answered them.
    pub model: String,
    /// How many calls.
    pub calls: u64,
    /// Tokens sent.
    pub prompt_tokens: u64,
    /// Tokens received.
    pub output_tokens: u64,
}

impl ModelUsageDay {
    /// Adds up `records` per UTC day, use case and model, ordered by day, then use case
    /// (in [`AiUseCase::ALL`] order), then model: the reference every backend's
    /// aggregation must equal.
    pub fn sum(records: &[ModelUsage]) -> Vec<ModelUsageDay> {
        let mut days = Vec::new();
        for r in records {
            let call = ModelUsageDay {
                day: r.at.to_zoned(jiff::tz::TimeZone::UTC).date(),
                use_case: r.use_case,
                model: r.model.clone(),
                calls: 1,
                prompt_tokens: u64::from(r.prompt_tokens),
                output_tokens: u64::from(r.output_tokens),
            };
            add_into(&mut days, &call, |a, b| a.day == b.day);
        }
        Self::order(&mut days);
        days
    }

    /// `days` added up over the whole range per use case and model, ordered by use case
    /// (in [`AiUseCase::ALL`] order), then model; each total keeps the `day` of its first
    /// row.
    pub fn totals(days: &[ModelUsageDay]) -> Vec<ModelUsageDay> {
        let mut totals = Vec::new();
        for day in days {
            add_into(&mut totals, day, |_, _| true);
        }
        totals.sort_by(|a, b| {
            (use_case_rank(a.use_case), &a.model).cmp(&(use_case_rank(b.use_case), &b.model))
        });
        totals
    }

    /// Puts `days` in report order: by day, then use case (in [`AiUseCase::ALL`] order),
    /// then model. Backends that add up in the database order their rows with it.
    pub fn order(days: &mut [ModelUsageDay]) {
        days.sort_by(|a, b| {
            (a.day, use_case_rank(a.use_case), &a.model).cmp(&(
                b.day,
                use_case_rank(b.use_case),
                &b.model,
            ))
        });
    }
}

/// Adds `row` to the row of `rows` with its use case and model (and, by `same_period`,
/// its period), or appends it.
fn add_into(
    rows: &mut Vec<ModelUsageDay>,
    row: &ModelUsageDay,
    same_period: impl Fn(&ModelUsageDay, &ModelUsageDay) -> bool,
) {
    match rows
        .iter_mut()
        .find(|r| r.use_case == row.use_case && r.model == row.model && same_period(r, row))
    {
        Some(r) => {
            r.calls += row.calls;
            r.prompt_tokens += row.prompt_tokens;
            r.output_tokens += row.output_tokens;
        }
        None => rows.push(row.clone()),
    }
}

/// A use case's place in [`AiUseCase::ALL`], the order reports list them in.
pub fn use_case_rank(use_case: AiUseCase) -> usize {
    AiUseCase::ALL
        .iter()
        .position(|u| *u == use_case)
        .unwrap_or(usize::MAX)
}
