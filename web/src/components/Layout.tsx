import {
  ActionIcon,
  AppShell,
  Badge,
  Burger,
  Center,
  Container,
  Drawer,
  Group,
  Loader,
  Menu,
  Stack,
  Text,
  Tooltip,
  UnstyledButton,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Coins, Compass, Images, LogOut, Settings, Sparkles, UserRound, Mic } from "lucide-react";
import { History as HistoryIcon, ListVideo, ScanFace, Users } from "lucide-react";
import { Suspense } from "react";
import { Link, Navigate, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { useMutation, useQuery } from "urql";

import { graphql } from "../gql";
import { useSession, type Viewer } from "../app/session";
import { PENDING_CONTEXT, PendingInvitationsDocument } from "../app/teams";
import { SessionLostModal } from "./SessionLostModal";

const LogoutDocument = graphql(`
  mutation Logout {
    logout {
      ... on LogoutResult {
        wasLoggedIn
      }
      ... on OperationInfo {
        messages {
          message
          code
          field
        }
      }
    }
  }
`);

const NAV = [
  { to: "/library", label: "Library", icon: Images },
  { to: "/voices", label: "Voices", icon: Mic },
  { to: "/likeness", label: "Likeness", icon: ScanFace },
  { to: "/create", label: "Create", icon: Sparkles },
  { to: "/jobs", label: "Jobs", icon: ListVideo },
  { to: "/history", label: "History", icon: HistoryIcon },
  { to: "/explore", label: "Explore", icon: Compass },
  { to: "/teams", label: "Teams", icon: Users },
];

/** The count of invitations waiting for the viewer, beside "Teams". */
function usePendingInvitations(signedIn: boolean): number {
  const [{ data }] = useQuery({ query: PendingInvitationsDocument, pause: !signedIn, context: PENDING_CONTEXT });
  return signedIn ? (data?.myInvitations.length ?? 0) : 0;
}

function NavLabel({ label, count }: { label: string; count: number }) {
  return (
    <>
      {label}
      {count > 0 && (
        <Badge size="xs" circle variant="filled" color="violet" aria-label={`${count} pending invitation${count === 1 ? "" : "s"}`}>
          {count}
        </Badge>
      )}
    </>
  );
}

function ViewerFigures({ me }: { me: Viewer }) {
  // Seven links leave the header about 500 px for these from lg up: the words after the
  // figures show from xl, and each figure keeps its full meaning in a tooltip and its label.
  return (
    <>
      <Tooltip label={`${me.tier.name} tier`}>
        <Badge
          variant="light"
          color={me.isMember ? "violet" : "gray"}
          aria-label={`Tier: ${me.tier.name}`}
          style={{ flexShrink: 0, overflow: "visible" }}
        >
          {me.tier.name}
        </Badge>
      </Tooltip>
      <Tooltip label={`${me.creditBalance} credits`}>
        <Group gap={4} wrap="nowrap" aria-label={`Credits: ${me.creditBalance}`}>
          <Coins size={16} aria-hidden />
          <Text size="sm" fw={600}>
            {me.creditBalance}
          </Text>
          <Text size="sm" c="dimmed" visibleFrom="xl" style={{ whiteSpace: "nowrap" }}>
            credits
          </Text>
        </Group>
      </Tooltip>
      <Tooltip label="Free multi-view uses left today">
        <Group gap={4} wrap="nowrap" aria-label={`Free multi-view uses left today: ${me.freeMultiviewUsesLeftToday}`}>
          <Sparkles size={16} aria-hidden />
          <Text size="sm" fw={600} style={{ whiteSpace: "nowrap" }}>
            {me.freeMultiviewUsesLeftToday}/{me.freeMultiviewUsesPerDay}
          </Text>
          <Text size="sm" c="dimmed" visibleFrom="xl" style={{ whiteSpace: "nowrap" }}>
            free multi-view today
          </Text>
        </Group>
      </Tooltip>
    </>
  );
}

export function Layout() {
  const { me, refresh } = useSession();
  const navigate = useNavigate();
  const [, logout] = useMutation(LogoutDocument);
  const [drawer, { toggle, close }] = useDisclosure(false);
  const pending = usePendingInvitations(!!me);

  const signOut = async () => {
    await logout({});
    close();
    refresh();
    navigate("/login", { replace: true });
  };

  return (
    <AppShell header={{ height: 60 }} padding="md">
      <AppShell.Header px="md" style={{ background: "rgba(13,15,19,0.92)", backdropFilter: "blur(8px)" }}>
        <Group h="100%" justify="space-between" wrap="nowrap">
          <Group gap="lg" wrap="nowrap">
            <UnstyledButton component={Link} to="/library" aria-label="Element Studio home">
              <Group gap={8} wrap="nowrap">
                <Sparkles size={22} color="var(--mantine-color-violet-4)" aria-hidden />
                <Text fw={700} size="lg" style={{ whiteSpace: "nowrap" }}>
                  Element Studio
                </Text>
              </Group>
            </UnstyledButton>
            {me && (
              // Eight links fit on one line from md up (the viewer's figures from lg) with their
              // icons from 84em: below that they pushed the account menu out (measured at 992–1280 px).
              <Group gap={4} visibleFrom="md" wrap="nowrap" component="nav" aria-label="Main">
                {NAV.map(({ to, label, icon: Icon }) => (
                  <NavLink key={to} to={to} className="nav-link">
                    <Group gap={6} wrap="nowrap">
                      <Icon size={16} aria-hidden className="nav-icon" />
                      <NavLabel label={label} count={to === "/teams" ? pending : 0} />
                    </Group>
                  </NavLink>
                ))}
              </Group>
            )}
          </Group>
          {me ? (
            <Group gap="md" wrap="nowrap">
              <Group gap="md" visibleFrom="lg" wrap="nowrap">
                <ViewerFigures me={me} />
              </Group>
              <Menu position="bottom-end" withinPortal>
                <Menu.Target>
                  <ActionIcon variant="light" size="lg" radius="xl" aria-label={`Account menu for ${me.displayName || me.username}`}>
                    <UserRound size={18} aria-hidden />
                  </ActionIcon>
                </Menu.Target>
                <Menu.Dropdown>
                  <Menu.Label>Signed in as {me.username}</Menu.Label>
                  <Menu.Item component={Link} to="/account" leftSection={<Settings size={14} aria-hidden />}>
                    Account
                  </Menu.Item>
                  <Menu.Item leftSection={<LogOut size={14} />} onClick={signOut}>
                    Log out
                  </Menu.Item>
                </Menu.Dropdown>
              </Menu>
              <Burger opened={drawer} onClick={toggle} hiddenFrom="md" size="sm" aria-label="Open navigation" />
            </Group>
          ) : (
            <Group gap="sm">
              <NavLink to="/login" className="nav-link">
                Log in
              </NavLink>
              <NavLink to="/signup" className="nav-link">
                Sign up
              </NavLink>
            </Group>
          )}
        </Group>
      </AppShell.Header>
      {me && (
        <Drawer opened={drawer} onClose={close} title="Element Studio" size="xs" hiddenFrom="md">
          <Stack gap="md" component="nav" aria-label="Main (mobile)">
            {NAV.map(({ to, label }) => (
              <NavLink key={to} to={to} className="nav-link" onClick={close}>
                <Group gap={6} wrap="nowrap" component="span">
                  <NavLabel label={label} count={to === "/teams" ? pending : 0} />
                </Group>
              </NavLink>
            ))}
            <Stack gap="xs">
              <ViewerFigures me={me} />
            </Stack>
          </Stack>
        </Drawer>
      )}
      <AppShell.Main>
        <Container size={1400} px={0}>
          <Suspense fallback={<PageLoader />}>
            <Outlet />
          </Suspense>
        </Container>
      </AppShell.Main>
      <SessionLostModal />
    </AppShell>
  );
}

export function PageLoader() {
  return (
    <Center h="50vh" aria-busy="true">
      <Loader aria-label="Loading" />
    </Center>
  );
}

/** Screens for signed-in users: others go to /login and come back here afterwards. */
export function RequireAuth() {
  const { me, loading } = useSession();
  const location = useLocation();
  if (loading) return <PageLoader />;
  if (!me) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  return <Outlet />;
}
