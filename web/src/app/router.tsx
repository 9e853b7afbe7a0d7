import { createBrowserRouter, Navigate } from "react-router";

import { Layout, RequireAuth } from "../components/Layout";
import { RouteError } from "../components/RouteError";

// Each screen is its own chunk, loaded when first visited.
const screen = (load: () => Promise<{ default: React.ComponentType }>) => async () => ({
  Component: (await load()).default,
});

export const router = createBrowserRouter([
  {
    element: <Layout />,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <Navigate to="/library" replace /> },
      { path: "login", lazy: screen(() => import("../routes/Login")) },
      { path: "signup", lazy: screen(() => import("../routes/Signup")) },
      {
        element: <RequireAuth />,
        children: [
          { path: "library", lazy: screen(() => import("../routes/Library")) },
          { path: "elements/new", lazy: screen(() => import("../routes/ElementNew")) },
          { path: "elements/new/video", lazy: screen(() => import("../routes/VideoNew")) },
          { path: "elements/:id", lazy: screen(() => import("../routes/ElementPage")) },
          { path: "voices", lazy: screen(() => import("../routes/Voices")) },
          { path: "likeness", lazy: screen(() => import("../routes/Likeness")) },
          { path: "account", lazy: screen(() => import("../routes/Account")) },
          { path: "create", lazy: screen(() => import("../routes/Create")) },
          { path: "jobs", lazy: screen(() => import("../routes/Jobs")) },
          { path: "jobs/:id", lazy: screen(() => import("../routes/JobPage")) },
          { path: "history", lazy: screen(() => import("../routes/History")) },
          { path: "explore", lazy: screen(() => import("../routes/Explore")) },
          { path: "explore/mine", lazy: screen(() => import("../routes/ExploreMine")) },
          { path: "explore/:id", lazy: screen(() => import("../routes/ExploreWork")) },
          { path: "teams", lazy: screen(() => import("../routes/Teams")) },
          { path: "teams/:handle", lazy: screen(() => import("../routes/TeamPage")) },
        ],
      },
      { path: "*", lazy: screen(() => import("../routes/NotFound")) },
    ],
  },
]);
