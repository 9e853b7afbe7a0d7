import { graphql } from "../gql";

// Operations more than one screen runs (each screen's own live next to it).

export const JobProgressDocument = graphql(`
  query JobProgress($id: ID!) {
    generationJob(id: $id) {
      id
      status
      progress
      errorMessage
      refunded
    }
  }
`);

export const UpdateDocument = graphql(`
  mutation ElementUpdate($input: ElementUpdateInput!) {
    elementUpdate(input: $input) {
      ... on ElementResult {
        element {
          id
          name
          type
          description
          version
          updatedAt
        }
      }
      ... on OperationInfo {
        messages {
          field
          message
          code
        }
      }
    }
  }
`);
