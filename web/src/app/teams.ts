import { graphql } from "../gql";

/** What a team change can touch: a mutation names them so the cached lists that showed them
 * (an empty list carries no typename of its own) are read again. */
export const TEAM_TYPENAMES = ["Team", "TeamMember", "TeamInvitation", "Library", "Element", "ElementConnection", "MentionSuggestion"];

/** The invitations waiting for the viewer: the nav's badge counts them. */
export const PendingInvitationsDocument = graphql(`
  query PendingInvitations {
    myInvitations {
      id
    }
  }
`);

export const PENDING_CONTEXT = { additionalTypenames: ["TeamInvitation", "Team"] };
