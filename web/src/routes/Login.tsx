import { AuthPage } from "./AuthPage";

export default function Login() {
  return <AuthPage mode="login" />;
}
