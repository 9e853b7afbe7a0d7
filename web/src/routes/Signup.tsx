import { AuthPage } from "./AuthPage";

export default function Signup() {
  return <AuthPage mode="signup" />;
}
