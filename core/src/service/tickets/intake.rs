//! Intake: a new ticket is validated, triaged, scheduled, routed and stored in one write;
//! an idempotency key returns the ticket it created before.

use super::*;
use crate::domain::AiUseCase;
use crate::llm::UsageTally;
use crate::service::attachments::check_limits;
use crate::service::back_off;

impl Helpdesk {
    /// Opens a ticket: validate, triage (never fails), SLA and route (except chat tickets,
    /// which the bot answers first: their SLA starts and the router assigns them at
    /// handoff), then one atomic write of
    /// the ticket with its `Created`, `Triaged`, `SlaScheduled` and `Assigned` events and the
    /// assignee's notification. With an idempotency key already used by the same requester,
    /// returns that ticket instead (`created: false`, the files of this call not stored).
    ///
    /// Files ([`NewTicket::attachments`]) are checked against the tenant's limits, put in
    /// the blob store and committed as files on the ticket itself in the same write (see
    /// [`crate::service::NewAttachment`]).
    pub async fn open_ticket(&self, actor: &Actor, new: NewTicket) -> Result<OpenOutcome> {
        let (tenant, user) = self.check(actor, Action::OpenTicket).await?;
        let mut outcome = self
            .open_ticket_inner(&tenant, &user, new, None, |_| Ok(()))
            .await?;
        outcome.ticket = crate::service::fields::for_viewer(actor, &tenant, outcome.ticket);
        Ok(outcome)
    }

    /// [`open_ticket`](Self::open_ticket) for a checked actor; `extend` adds to the create
    /// write before it is committed (the chat's first message and session link). It runs
    /// again when a routing conflict rebuilds the write, so it must add the same each time.
    ///
    /// Everything up to routing (checks, triage and its model call, blobs) happens once;
    /// a commit refused for its routing claim (another instance routed to the same agent
    /// meanwhile, or filled their capacity) routes again on a fresh read and rebuilds the
    /// write, at most [`routing_attempts`](Self::routing_attempts) times, and then commits
    /// the ticket unassigned: a routing race never fails an intake.
    pub(crate) async fn open_ticket_inner(
        &self,
        tenant: &Tenant,
        user: &User,
        mut new: NewTicket,
        follow_up_of: Option<TicketId>,
        mut extend: impl FnMut(&mut Change) -> Result<()> + Send,
    ) -> Result<OpenOutcome> {
        let files = std::mem::take(&mut new.attachments);
        check_limits(&tenant.settings, &files)?;
        let subject = validate::subject(&new.subject)?;
        let description = validate::body("description", &new.description, false)?;
        let tags = validate::tags(&new.tags)?;
        let custom_fields = crate::fields::apply_changes(
            &tenant.settings.custom_fields,
            &std::collections::BTreeMap::new(),
            &new.fields
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect(),
            user.role,
        )?;
        let key = new
            .idempotency_key
            .as_deref()
            .map(validate_key)
            .transpose()?;
        let requester = match (user.role, new.requester) {
            (Role::Customer, Some(r)) if r != user.id => {
                return Err(Error::Forbidden {
                    action: "open a ticket for someone else",
                    role: Role::Customer,
                });
            }
            (Role::Customer, _) | (_, None) => user.id,
            (_, Some(r)) => {
                let requester = self
                    .inner
                    .store
                    .get_user(tenant.id, r)
                    .await?
                    .filter(|u| u.active)
                    .ok_or_else(|| Error::not_found("user", r))?;
                requester.id
            }
        };
        if let Some(key) = &key
            && let Some(existing) = self.existing_for_key(tenant, key, requester).await?
        {
            return Ok(OpenOutcome {
                ticket: existing,
                created: false,
            });
        }

        let usage = UsageTally::new();
        self.learned_triage_sync_if_due(tenant.id).await;
        let triage = self
            .inner
            .classifiers
            .run(&ClassifyInput {
                tenant,
                subject: &subject,
                description: &description,
                usage: &usage,
            })
            .await;
        let priority = match (user.role, new.priority) {
            (Role::Customer, Some(p)) if p.rank() >= triage.priority.rank() => p,
            (Role::Customer, _) | (_, None) => triage.priority,
            (_, Some(p)) => p,
        };

        // Last before the commit, so that fewer failures leave an unreferenced blob.
        let files = self.store_blobs(tenant.id, &tenant.settings, files).await?;
        let now = self.now();
        let initial = Ticket {
            id: TicketId::new(),
            tenant_id: tenant.id,
            // The store allocates the number when it writes the ticket (`create_ticket`).
            number: 0,
            requester,
            assignee: None,
            subject,
            description,
            status: TicketStatus::New,
            priority: tenant.settings.default_priority,
            category: None,
            tags,
            required_skills: Vec::new(),
            sentiment: None,
            language: None,
            channel: new.channel.unwrap_or(Channel::Form),
            created_at: now,
            updated_at: now,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            sla: SlaState::default(),
            triage: None,
            merged_into: None,
            follow_up_of,
            csat: None,
            custom_fields,
            team: None,
            erased_at: None,
            version: 1,
        };
        let mut change = Change::create(initial, Some(user.id));
        change.record_usage(usage.take(AiUseCase::Triage, now));
        let c = triage.classification;
        change.push(EventKind::Triaged {
            triage: triage.triage,
            category: c.category,
            priority,
            required_skills: c.required_skills,
            sentiment: c.sentiment,
            language: c.language,
        });
        // Dropdowns triage filled, where the requester left them empty; the classifier
        // already held each value to the field's options.
        let mut filled = change.ticket().custom_fields.clone();
        for (key, option) in c.fields {
            filled
                .entry(key)
                .or_insert(crate::domain::FieldValue::Text(option));
        }
        if filled != change.ticket().custom_fields {
            change.push(EventKind::CustomFieldsChanged { fields: filled });
        }
        // The team that handles the category takes it; routing picks among its members.
        let team = change
            .ticket()
            .category
            .as_deref()
            .and_then(|c| tenant.settings.team_for_category(c));
        if let Some(team) = team {
            change.push(EventKind::TeamChanged {
                to: Some(team.key.clone()),
            });
        }
        // A chat ticket is answered by the bot first: it is not the agents' work, so its SLA
        // clock starts (and it is routed to a human) only when it leaves the bot
        // (`set_status` from New, e.g. the handoff).
        if change.ticket().channel != Channel::Chat {
            let due = sla::schedule(
                &tenant.settings.sla,
                &tenant.settings.calendar,
                priority,
                now,
            )?;
            change.push(EventKind::SlaScheduled { sla: due });
        }
        let routes = change.ticket().channel != Channel::Chat;
        let base = change;
        // Read once: a retry rebuilds the write, not what the rules read.
        let ctx = if crate::service::automation::has_change_rules(tenant) {
            let mut ctx = self.rule_context(tenant).await?;
            ctx.load_requester(self, requester).await?;
            Some(ctx)
        } else {
            None
        };
        let attempts = self.routing_attempts();
        let mut attempt = 0;
        loop {
            let routed = if routes && attempt < attempts {
                self.route(tenant, base.ticket()).await?
            } else {
                None
            };
            let mut change = base.clone();
            if let Some(routed) = routed {
                change.route_to(routed.assignee, routed.claim);
                change.notify(vec![routed.assignee], NotificationKind::Assigned);
            }
            change.attach(None, files.clone());
            extend(&mut change)?;
            let mut write = change.finish();
            write.idempotency_key = key.clone();
            if let Some(ctx) = &ctx {
                write = crate::service::automation::run_change_rules(ctx, write)?;
            }
            match self.inner.store.create_ticket(write).await {
                Ok(stored) => {
                    self.signal_commit(stored.ticket.tenant_id);
                    let number = stored.ticket.number;
                    tracing::info!(tenant = %tenant.slug, number, "ticket opened");
                    return Ok(OpenOutcome {
                        ticket: stored.ticket,
                        created: true,
                    });
                }
                Err(e) if e.is_routing_conflict() => {
                    attempt += 1;
                    if attempt < attempts {
                        back_off(attempt, e).await?;
                    } else {
                        tracing::warn!(tenant = %tenant.slug, error = %e, "routing kept conflicting; the ticket is opened unassigned");
                    }
                }
                Err(Error::Duplicate {
                    kind: DuplicateKind::IdempotencyKey,
                    value,
                }) => {
                    return match self.existing_for_key(tenant, &value, requester).await? {
                        Some(existing) => Ok(OpenOutcome {
                            ticket: existing,
                            created: false,
                        }),
                        None => Err(Error::Duplicate {
                            kind: DuplicateKind::IdempotencyKey,
                            value,
                        }),
                    };
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub(super) async fn existing_for_key(
        &self,
        tenant: &Tenant,
        key: &str,
        requester: UserId,
    ) -> Result<Option<Ticket>> {
        let Some(id) = self
            .inner
            .store
            .find_by_idempotency_key(tenant.id, key)
            .await?
        else {
            return Ok(None);
        };
        let ticket = self
            .inner
            .store
            .get_ticket(tenant.id, id)
            .await?
            .ok_or_else(|| Error::not_found("ticket", id))?;
        if ticket.requester != requester {
            return Err(Error::Duplicate {
                kind: DuplicateKind::IdempotencyKey,
                value: key.to_string(),
            });
        }
        Ok(Some(ticket))
    }
}
