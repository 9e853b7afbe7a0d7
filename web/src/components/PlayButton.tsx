import { ActionIcon, Badge, Tooltip } from "@mantine/core";
import { Pause, Play, AudioLines } from "lucide-react";
import { useEffect, useRef, useState } from "react";

// One sound at a time across the studio: starting a voice stops the one playing.
let playing: HTMLAudioElement | null = null;

function usePlayer(url: string) {
  const audio = useRef<HTMLAudioElement | null>(null);
  const [on, setOn] = useState(false);
  useEffect(
    () => () => {
      audio.current?.pause();
    },
    [],
  );
  const toggle = () => {
    if (!audio.current) {
      audio.current = new Audio(url);
      audio.current.addEventListener("ended", () => setOn(false));
      audio.current.addEventListener("pause", () => setOn(false));
      audio.current.addEventListener("play", () => setOn(true));
    }
    const a = audio.current;
    if (on) {
      a.pause();
    } else {
      if (playing && playing !== a) playing.pause();
      playing = a;
      a.currentTime = 0;
      void a.play().catch(() => setOn(false));
    }
  };
  return { on, toggle };
}

/** A round play/pause button for a voice; disabled, with the reason, when there is no URL
 * (the viewer's role may not download the voice's file). */
export function PlayButton({ url, name, size = "lg" }: { url: string | null | undefined; name: string; size?: string }) {
  if (!url)
    return (
      <Tooltip label="Your role in this library can't play or download voices">
        <span style={{ display: "inline-flex" }}>
          <ActionIcon variant="light" color="gray" radius="xl" size={size} disabled aria-label={`Play voice ${name} (your role can't play it)`}>
            <Play size={16} aria-hidden />
          </ActionIcon>
        </span>
      </Tooltip>
    );
  return <PlayableButton url={url} name={name} size={size} />;
}

function PlayableButton({ url, name, size }: { url: string; name: string; size: string }) {
  const { on, toggle } = usePlayer(url);
  return (
    <Tooltip label={on ? "Pause" : `Play “${name}”`}>
      <ActionIcon
        variant="filled"
        radius="xl"
        size={size}
        onClick={(e) => {
          e.preventDefault();
          e.stopPropagation();
          toggle();
        }}
        aria-label={on ? `Pause voice ${name}` : `Play voice ${name}`}
        aria-pressed={on}
      >
        {on ? <Pause size={16} aria-hidden /> : <Play size={16} aria-hidden />}
      </ActionIcon>
    </Tooltip>
  );
}

/** The voice badge of a card: its name, and it plays on click. Without a URL (the viewer's
 * role may not download the voice's file) it only names the voice, and says why. */
export function VoiceBadge({ url, name }: { url: string | null | undefined; name: string }) {
  if (!url)
    return (
      <Tooltip label="Your role in this library can't play or download voices">
        <Badge
          variant="light"
          color="gray"
          leftSection={<AudioLines size={12} aria-hidden />}
          aria-label={`Voice ${name} (your role can't play it)`}
          style={{ maxWidth: "100%" }}
        >
          {name}
        </Badge>
      </Tooltip>
    );
  return <PlayableVoiceBadge url={url} name={name} />;
}

function PlayableVoiceBadge({ url, name }: { url: string; name: string }) {
  const { on, toggle } = usePlayer(url);
  return (
    <Badge
      component="button"
      type="button"
      variant={on ? "filled" : "light"}
      color="violet"
      leftSection={on ? <Pause size={12} aria-hidden /> : <AudioLines size={12} aria-hidden />}
      onClick={(e: React.MouseEvent) => {
        e.preventDefault();
        e.stopPropagation();
        toggle();
      }}
      aria-label={on ? `Pause voice ${name}` : `Play voice ${name}`}
      aria-pressed={on}
      style={{ cursor: "pointer", maxWidth: "100%" }}
    >
      {name}
    </Badge>
  );
}
