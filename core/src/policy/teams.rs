//! Team rules: an admin's team definitions checked, and who may work a team's ticket.

use crate::domain::{Team, Ticket, User};
use crate::{Error, Result, UserId, validate};

/// Most teams a tenant may have.
pub const MAX_TEAMS: usize = 50;
/// Most members of one team.
pub const MAX_TEAM_MEMBERS: usize = 500;
/// Longest team name, in characters.
pub const MAX_TEAM_NAME_CHARS: usize = 60;

/// Checks and normalizes an admin's teams: keys are identifiers unique among the teams,
/// names are one line, members are listed once, and each category (one of `categories`)
/// belongs to one team at most. Whether the members are active staff needs the users
/// ([`check_members`]).
pub fn check_teams(teams: &[Team], categories: &[String]) -> Result<Vec<Team>> {
    if teams.len() > MAX_TEAMS {
        return Err(Error::validation(
            "settings.teams",
            format!("{} teams, at most {MAX_TEAMS}", teams.len()),
        ));
    }
    let mut out: Vec<Team> = Vec::with_capacity(teams.len());
    for (i, team) in teams.iter().enumerate() {
        let at = |name: &str| format!("settings.teams[{i}].{name}");
        let key = validate::identifier(&at("key"), &team.key)?;
        if out.iter().any(|t| t.key == key) {
            return Err(Error::validation(
                at("key"),
                format!("{key:?} is used twice"),
            ));
        }
        let name = validate::required_line(&at("name"), &team.name, MAX_TEAM_NAME_CHARS)?;
        if team.members.len() > MAX_TEAM_MEMBERS {
            return Err(Error::validation(
                at("members"),
                format!("at most {MAX_TEAM_MEMBERS} members"),
            ));
        }
        let mut members: Vec<UserId> = Vec::with_capacity(team.members.len());
        for m in &team.members {
            if !members.contains(m) {
                members.push(*m);
            }
        }
        let mut own: Vec<String> = Vec::new();
        for (j, c) in team.categories.iter().enumerate() {
            let c = c.trim().to_lowercase();
            if !categories.contains(&c) {
                return Err(Error::validation(
                    format!("settings.teams[{i}].categories[{j}]"),
                    format!("{c:?} is not one of the categories"),
                ));
            }
            if let Some(other) = out.iter().find(|t| t.categories.contains(&c)) {
                return Err(Error::validation(
                    format!("settings.teams[{i}].categories[{j}]"),
                    format!("{c:?} already goes to the team {:?}", other.name),
                ));
            }
            if !own.contains(&c) {
                own.push(c);
            }
        }
        out.push(Team {
            key,
            name,
            members,
            categories: own,
        });
    }
    Ok(out)
}

/// Checks that every member of every team is an active agent or admin among `users` (the
/// tenant's users).
pub fn check_members(teams: &[Team], users: &[User]) -> Result<()> {
    for (i, team) in teams.iter().enumerate() {
        for (j, member) in team.members.iter().enumerate() {
            if !users
                .iter()
                .any(|u| u.id == *member && u.active && u.is_staff())
            {
                return Err(Error::validation(
                    format!("settings.teams[{i}].members[{j}]"),
                    format!("{member} is not an active agent or admin of the company"),
                ));
            }
        }
    }
    Ok(())
}

/// A team key from outside (a form, a filter, the API), as stored: the identifier of one
/// of `teams`, else a validation error on `field` naming it.
pub fn known_team(field: &'static str, raw: &str, teams: &[Team]) -> Result<String> {
    let key = validate::identifier(field, raw)?;
    if !teams.iter().any(|t| t.key == key) {
        return Err(Error::validation(
            field,
            format!("{key:?} is not a team of the company"),
        ));
    }
    Ok(key)
}

/// Why `assignee` may not work `ticket` of a team (`teams`: the tenant's), if they may not:
/// a ticket with a team is worked by its members. A team that no longer exists restricts
/// nobody.
pub fn assignee_outside_team(ticket: &Ticket, teams: &[Team], assignee: UserId) -> Option<String> {
    let key = ticket.team.as_deref()?;
    let team = teams.iter().find(|t| t.key == key)?;
    (!team.has_member(assignee)).then(|| {
        format!(
            "not a member of the ticket's team {:?}: change the team first",
            team.name
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn team(key: &str, categories: &[&str]) -> Team {
        Team {
            key: key.into(),
            name: format!("Team {key}"),
            members: Vec::new(),
            categories: categories.iter().map(|c| (*c).to_string()).collect(),
        }
    }

    fn field(e: Error) -> String {
        match e {
            Error::Validation { field, .. } => field.into_owned(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_are_unique_identifiers_and_categories_belong_to_one_team() {
        let categories = vec!["billing".to_string(), "technical".to_string()];
        let ok = check_teams(&[team(" Billing ", &["BILLING"])], &categories).unwrap();
        assert_eq!(ok[0].key, "billing");
        assert_eq!(ok[0].categories, ["billing"]);
        let twice = [team("a", &[]), team("A", &[])];
        assert_eq!(
            field(check_teams(&twice, &categories).unwrap_err()),
            "settings.teams[1].key"
        );
        let shared = [team("a", &["billing"]), team("b", &["billing"])];
        assert_eq!(
            field(check_teams(&shared, &categories).unwrap_err()),
            "settings.teams[1].categories[0]"
        );
        let unknown = [team("a", &["sales"])];
        assert_eq!(
            field(check_teams(&unknown, &categories).unwrap_err()),
            "settings.teams[0].categories[0]"
        );
        let mut nameless = team("a", &[]);
        nameless.name = "  ".into();
        assert_eq!(
            field(check_teams(&[nameless], &categories).unwrap_err()),
            "settings.teams[0].name"
        );
    }
}
