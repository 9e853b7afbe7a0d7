import type { ElementType } from "../gql/graphql";

/** Labels of the element types; a Record so a type added to the schema fails the type check
 * until it has a label here. */
export const TYPE_LABELS: Record<ElementType, string> = {
  CHARACTER: "Character",
  ANIMAL: "Animal",
  PROP: "Prop",
  COSTUME: "Costume",
  SCENE: "Scene",
  EFFECT: "Effect",
  OTHER: "Other",
};

export const TYPES = Object.keys(TYPE_LABELS) as ElementType[];

/** Types that may speak (the service refuses a voice on the others). */
export const VOICE_TYPES: ElementType[] = ["CHARACTER"];

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
