import type { CodegenConfig } from "@graphql-codegen/cli";
import { addTypenameSelectionDocumentTransform } from "@graphql-codegen/client-preset";

// Types come only from the committed schema: a server change that breaks a query fails here.
//
// Trusted documents: every operation found under src/ (any screen's, picked up by itself) is
// listed with its SHA-256 in src/gql/persisted-documents.json ({"sha256:<hex>": text}), and
// each generated document carries that id in `__meta__.hash`. The build copies the list to
// dist/persisted-documents.json, which the service loads (elementsite/trusted_documents.py);
// the client sends the id instead of the text (src/app/persisted.ts).
//
// `__typename` is added to every selection here, at build time, rather than by urql's cache
// at run time: the service runs the listed text, so the listed text must already ask for the
// typenames the cache's invalidation and the union checks (`__typename === "OperationInfo"`)
// read.
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: true,
  generates: {
    "src/gql/": {
      preset: "client",
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        nonOptionalTypename: true,
        scalars: { DateTime: "string", Upload: "File", ID: "string", JSON: "unknown" },
      },
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { hashAlgorithm: "sha256" },
      },
      documentTransforms: [addTypenameSelectionDocumentTransform],
    },
  },
};

export default config;
