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

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A moment from the service (ISO 8601) in the reader's locale and time zone. */
export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DATE_TIME.format(d);
}

/** A signed credit amount: "+100", "−25" (a real minus sign, so it reads and aligns right). */
export function signed(amount: number): string {
  return amount > 0 ? `+${amount}` : amount < 0 ? `\u2212${-amount}` : "0";
}

const DAY = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** A day from the service (ISO 8601), in the reader's locale: "Dec 6, 2026". */
export function day(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DAY.format(d);
}
