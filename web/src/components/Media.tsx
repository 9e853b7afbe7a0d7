import { useState } from "react";

/** An image in a fixed-ratio frame with a shimmering placeholder until it arrives: the page
 * never jumps, and images below the fold load lazily. */
export function MediaImage({
  src,
  alt,
  ratio = "3 / 4",
  contain = false,
  eager = false,
}: {
  src: string | null | undefined;
  alt: string;
  ratio?: string;
  contain?: boolean;
  eager?: boolean;
}) {
  const [loaded, setLoaded] = useState(false);
  return (
    <div
      className={`media-frame${contain ? " contain" : ""}`}
      style={{ aspectRatio: ratio, animationPlayState: loaded ? "paused" : undefined }}
    >
      {src && (
        <img
          src={src}
          alt={alt}
          loading={eager ? "eager" : "lazy"}
          decoding="async"
          onLoad={() => setLoaded(true)}
          style={{ opacity: loaded ? 1 : 0, transition: "opacity 200ms ease" }}
        />
      )}
    </div>
  );
}
